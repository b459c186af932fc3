"""A tiny BERT text classifier built from a config and a WordPiece tokenizer trained here on a few
sentences, wrapped as transformers' PreTrainedTokenizerFast: nothing downloaded."""

import torch

SENTENCES = [
    "the film was good and the actors were great",
    "a bad film with bad actors",
    "the plot was dull but the music was good",
    "great music great actors",
]


def tokenizer():
    import tokenizers
    import transformers
    from tokenizers import models, normalizers, pre_tokenizers, processors, trainers

    raw = tokenizers.Tokenizer(models.WordPiece(unk_token="[UNK]"))
    raw.normalizer = normalizers.BertNormalizer(lowercase=True)
    raw.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    raw.train_from_iterator(SENTENCES, trainers.WordPieceTrainer(vocab_size=60, special_tokens=special))
    raw.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[(t, raw.token_to_id(t)) for t in ("[CLS]", "[SEP]")])
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=raw, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]",
        mask_token="[MASK]")


def classifier(tok, labels=2):
    import transformers

    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=len(tok), hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
        max_position_embeddings=32, num_labels=labels, pad_token_id=tok.pad_token_id, attn_implementation="eager",
    )
    return transformers.BertForSequenceClassification(config).eval()


def batch(tok, texts=("the film was good", "bad music")):
    return tok(list(texts), padding=True, return_tensors="pt")
