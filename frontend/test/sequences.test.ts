import assert from "node:assert/strict";
import { test } from "node:test";
import type { Tokens } from "../src/api";
import { Block } from "../src/data/block";
import { isDimmed, rangeGroup } from "../src/data/sequences";
import { mergeWords, pieceScheme, singleTokens, textColourOn, wordValues } from "../src/model/tokens";
import { rangeOfSorted } from "../src/render/normalise";

const NONE = { mode: "none" as const, percentile: 99, massPercent: 2 };

test("WordPiece pieces merge into words, special tokens stay apart", () => {
  const tokens = ["[CLS]", "wonder", "##ful", "##ly", "good", "[SEP]", "##x"];
  const dim = [true, false, false, false, false, true, false];
  assert.equal(pieceScheme(tokens, dim), "wordpiece");
  const words = mergeWords(tokens, dim);
  assert.deepEqual(words.map((w) => [w.text, w.start, w.end, w.dimmed]), [
    ["[CLS]", 0, 0, true], ["wonderfully", 1, 3, false], ["good", 4, 4, false], ["[SEP]", 5, 5, true], ["##x", 6, 6, false],
  ]);
  assert.deepEqual(Array.from(wordValues(words, (k) => k + 0.5)), [0.5, 1.5 + 2.5 + 3.5, 4.5, 5.5, 6.5]);
});

test("byte-level BPE (Ġ) and SentencePiece (▁) pieces merge at their word starts", () => {
  const bpe = ["<s>", "Ġthe", "Ġwonder", "ful", "Ġ世界", "</s>"];
  assert.equal(pieceScheme(bpe), "bpe");
  assert.deepEqual(mergeWords(bpe, [true, false, false, false, false, true]).map((w) => w.text), ["<s>", "the", "wonderful", "世界", "</s>"]);
  const sp = ["▁la", "▁ré", "sumé", "▁שלום", "<pad>"];
  assert.equal(pieceScheme(sp), "sentencepiece");
  assert.deepEqual(mergeWords(sp, [false, false, false, false, true]).map((w) => [w.text, w.start, w.end]), [["la", 0, 0], ["résumé", 1, 2], ["שלום", 3, 3], ["<pad>", 4, 4]]);
  assert.deepEqual(singleTokens(sp, []).map((w) => w.text), sp, "unmerged tokens show as they are");
});

test("special and padding tokens stay out of the colour range", () => {
  const tokens: Tokens = { length: 4, tokens: [["[CLS]", "a", "b", "[PAD]"]], special: [[true, false, false, true]], padding: [[false, false, false, true]] };
  const block = new Block(Float32Array.from([1, 0.25, -0.5, 0.75]), 8, 1, 4);
  const group = rangeGroup([block], tokens);
  assert.equal(isDimmed(tokens, 0, 0), true);
  assert.equal(isDimmed(tokens, 0, 1), false);
  const range = rangeOfSorted(group.together("abs"), "absolute", NONE);
  assert.deepEqual([range.lo, range.hi], [0.25 * 8, 0.5 * 8], "the [CLS] value 8 and the padding 6 are left out");
  const all: Tokens = { ...tokens, special: [[true, true, true, true]] };
  assert.equal(rangeGroup([block], all).blocks[0], block, "a sample of dimmed tokens only keeps its values");
});

test("token text takes black or white, whichever reads on its background", () => {
  assert.equal(textColourOn(255, 255, 255), "#000");
  assert.equal(textColourOn(0, 0, 0), "#fff");
  assert.equal(textColourOn(68, 1, 84), "#fff", "viridis' dark end");
  assert.equal(textColourOn(253, 231, 37), "#000", "viridis' light end");
});
