"""Tiny text models built from configs and a tokenizer trained offline by `tokenizers` (nothing is
downloaded): sentences whose class is decided by one keyword, a BERT classifier and a GPT-2 LM."""

import random

import torch

KEYWORDS = ("good", "bad")  # class 0, class 1
FILLER = ("the", "movie", "was", "very", "plot", "actor", "scene", "long", "and", "it", "a", "film")
SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]")


def sentences(count, seed=0, length=6):
    """(texts, labels): `length` filler words with one keyword at a random place; the keyword is the class."""
    rng = random.Random(seed)
    texts, labels = [], []
    for _ in range(count):
        label = rng.randrange(len(KEYWORDS))
        words = [rng.choice(FILLER) for _ in range(length - 1)]
        words.insert(rng.randrange(length), KEYWORDS[label])
        texts.append(" ".join(words))
        labels.append(label)
    return texts, labels


def word_tokenizer():
    """A PreTrainedTokenizerFast over a word-level vocabulary trained here, with BERT's special tokens
    ([CLS] text [SEP], padding [PAD])."""
    import transformers
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator([" ".join(FILLER + KEYWORDS)],
                                  trainers.WordLevelTrainer(special_tokens=list(SPECIALS)))
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[(t, tokenizer.token_to_id(t)) for t in ("[CLS]", "[SEP]")])
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]")


def bert_classifier(tokenizer, seed=0):
    import transformers

    config = transformers.BertConfig(
        vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
        max_position_embeddings=32, num_labels=len(KEYWORDS), pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(seed)
    return transformers.BertForSequenceClassification(config)


def gpt2_lm(tokenizer, seed=0):
    import transformers

    config = transformers.GPT2Config(
        vocab_size=len(tokenizer), n_embd=16, n_layer=2, n_head=2, n_positions=32,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.cls_token_id, eos_token_id=tokenizer.sep_token_id)
    torch.manual_seed(seed)
    return transformers.GPT2LMHeadModel(config)


def classification_examples(tokenizer, count, seed=0):
    """Tokenized examples {"input_ids", "attention_mask", "labels"} as a Trainer's dataset holds them."""
    texts, labels = sentences(count, seed)
    encoded = tokenizer(texts)
    return [{"input_ids": ids, "attention_mask": mask, "labels": label}
            for ids, mask, label in zip(encoded["input_ids"], encoded["attention_mask"], labels)]


def lm_examples(tokenizer, count, seed=0):
    """Tokenized examples whose labels are their own ids (the LM shifts them)."""
    texts, _ = sentences(count, seed)
    encoded = tokenizer(texts)
    return [{"input_ids": ids, "attention_mask": mask, "labels": list(ids)}
            for ids, mask in zip(encoded["input_ids"], encoded["attention_mask"])]
