// TensorBoard's unpublished plugin protocol (components/experimental/plugin_lib): the iframe posts
// "experimental.bootstrap" with a MessagePort to its parent, and the host then sends JSON messages such
// as {"type": "experimental.DataReloaded", ...} on it whenever the user reloads or auto-reload fires.
// The host awaits a reply to each message, so every message gets one.

interface IpcMessage {
  type: string;
  id: number;
  payload: unknown;
  error: string | null;
  isReply: boolean;
}

export function listenForReloads(onReload: () => void): void {
  if (typeof window === "undefined" || window.parent === window || typeof MessageChannel === "undefined") return;
  const channel = new MessageChannel();
  channel.port1.onmessage = (event: MessageEvent) => {
    let message: IpcMessage;
    try {
      message = JSON.parse(String(event.data)) as IpcMessage;
    } catch {
      return;
    }
    if (!message || message.isReply) return;
    if (message.type === "experimental.DataReloaded") onReload();
    const reply: IpcMessage = { type: message.type, id: message.id, payload: null, error: null, isReply: true };
    channel.port1.postMessage(JSON.stringify(reply));
  };
  try {
    // Same origin only: the port goes to TensorBoard's own page and nowhere else.
    window.parent.postMessage("experimental.bootstrap", window.location.origin, [channel.port2]);
  } catch {
    // A parent of another origin (not TensorBoard): polling still picks up new steps.
  }
}
