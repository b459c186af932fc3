// DOM-free pieces of the token view: sub-word pieces merged into words (scores summed), the text a
// piece shows once merged, and the values of a sample's words. Three tokenizer families mark pieces:
// WordPiece (BERT) prefixes a piece that continues a word with "##"; byte-level BPE (GPT-2, RoBERTa)
// prefixes a piece that starts a word with "Ġ" (a space; "Ċ" a newline); SentencePiece (T5, XLM-R)
// prefixes it with "▁". Special and padding tokens never merge.

export type PieceScheme = "wordpiece" | "bpe" | "sentencepiece";

/** One drawn unit: a token, or a word of tokens `start`..`end` (inclusive) when merged. */
export interface Word {
  start: number;
  end: number;
  /** What the unit shows: the token as it is, or the word's pieces joined without their markers. */
  text: string;
  /** Special or padding: drawn dimmed, kept out of the colour range. */
  dimmed: boolean;
}

/** Which family wrote `tokens`, from the markers present (WordPiece when none is). */
export function pieceScheme(tokens: readonly string[], dimmed: readonly boolean[] = []): PieceScheme {
  let bpe = 0;
  let sp = 0;
  tokens.forEach((t, k) => {
    if (dimmed[k]) return;
    if (t.startsWith("Ġ") || t.startsWith("Ċ")) bpe++;
    else if (t.startsWith("▁")) sp++;
  });
  if (bpe === 0 && sp === 0) return "wordpiece";
  return bpe >= sp ? "bpe" : "sentencepiece";
}

function startsWord(token: string, scheme: PieceScheme): boolean {
  if (scheme === "wordpiece") return !token.startsWith("##");
  if (scheme === "bpe") return token.startsWith("Ġ") || token.startsWith("Ċ");
  return token.startsWith("▁");
}

/** A piece's text inside a merged word: its marker dropped. */
export function pieceText(token: string, scheme: PieceScheme, first: boolean): string {
  if (scheme === "wordpiece") return token.startsWith("##") && !first ? token.slice(2) : token;
  if (scheme === "bpe") return token.startsWith("Ġ") || token.startsWith("Ċ") ? token.slice(1) : token;
  return token.startsWith("▁") ? token.slice(1) : token;
}

/** Every token on its own: what the view draws without merging. */
export function singleTokens(tokens: readonly string[], dimmed: readonly boolean[]): Word[] {
  return tokens.map((text, k) => ({ start: k, end: k, text, dimmed: Boolean(dimmed[k]) }));
}

/**
 * The words of one sequence. A piece joins the word before it when its scheme says it continues a
 * word and neither it nor the word is dimmed; the first piece after a dimmed token starts a word.
 */
export function mergeWords(tokens: readonly string[], dimmed: readonly boolean[]): Word[] {
  const scheme = pieceScheme(tokens, dimmed);
  const words: Word[] = [];
  tokens.forEach((token, k) => {
    const last = words[words.length - 1];
    const isDim = Boolean(dimmed[k]);
    if (last && !isDim && !last.dimmed && !startsWord(token, scheme)) {
      last.end = k;
      last.text += pieceText(token, scheme, false);
      return;
    }
    words.push({ start: k, end: k, text: isDim ? token : pieceText(token, scheme, true), dimmed: isDim });
  });
  return words;
}

/** Each word's value: the sum of its tokens' raw values. */
export function wordValues(words: readonly Word[], raw: (k: number) => number): Float64Array {
  const out = new Float64Array(words.length);
  words.forEach((w, i) => {
    let sum = 0;
    for (let k = w.start; k <= w.end; k++) sum += raw(k);
    out[i] = sum;
  });
  return out;
}

/** Black or white text, whichever reads better on a background of (r, g, b) (WCAG luminance). */
export function textColourOn(r: number, g: number, b: number): "#000" | "#fff" {
  const lin = (c: number) => {
    const x = c / 255;
    return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
  };
  const l = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  return (l + 0.05) / 0.05 > 1.05 / (l + 0.05) ? "#000" : "#fff";
}
