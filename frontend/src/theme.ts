// Light or dark, as TensorBoard shows itself. TensorBoard 2.21 marks dark mode with the class
// `dark-mode` on its page's <body> (its dark-mode-supporter component toggles it from the theme
// toggle, the settings dialog and, by default, the system's prefers-color-scheme). The plugin frame
// is same-origin, so the dashboard reads that class and watches it change. Outside TensorBoard (no
// readable parent, or a parent that is not TensorBoard), it follows the system setting.

export type ThemeListener = (dark: boolean) => void;

/** The TensorBoard page hosting this frame, when it can be read; null otherwise. */
export function hostDocument(win: Window = window): Document | null {
  try {
    if (win.parent === win) return null;
    const doc = win.parent.document;
    // TensorBoard's Angular app; anything else hosting the frame does not speak for the theme.
    return doc.querySelector("tb-webapp") ? doc : null;
  } catch {
    return null; // another origin
  }
}

export function hostIsDark(doc: Document): boolean {
  return doc.body?.classList.contains("dark-mode") ?? false;
}

/** Calls `listener` now and whenever the theme changes; returns the current value. */
export function watchTheme(listener: ThemeListener, win: Window = window): boolean {
  const host = hostDocument(win);
  if (host && host.body) {
    let dark = hostIsDark(host);
    const Observer = (win.parent as Window & typeof globalThis).MutationObserver ?? MutationObserver;
    new Observer(() => {
      const now = hostIsDark(host);
      if (now !== dark) listener((dark = now));
    }).observe(host.body, { attributes: true, attributeFilter: ["class"] });
    listener(dark);
    return dark;
  }
  const query = win.matchMedia?.("(prefers-color-scheme: dark)");
  const dark = query?.matches ?? false;
  query?.addEventListener?.("change", (e) => listener(e.matches));
  listener(dark);
  return dark;
}
