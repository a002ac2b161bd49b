"""Translate with a qkv model in PyTorch (docs/export-to-pytorch.md).
usage: python3 translate.py MODEL.safetensors [--compare QKV_LOGITS.safetensors] [--save OUT.safetensors]
                            [SENTENCE ...]"""
import json, math, re, sys
import torch
from torch import nn

def load(path):  # safetensors by hand: 8-byte length, JSON header, raw little-endian float32
    raw = open(path, "rb").read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = bytearray(raw[8 + n:])
    tensors = {k: torch.frombuffer(data, dtype=torch.float32, offset=v["data_offsets"][0],
                                   count=math.prod(v["shape"])).reshape(v["shape"]).clone()
               for k, v in header.items()}
    return tensors, meta

def save(path, tensors, meta):  # the way back (export_checkpoint --import reads it)
    header, data = {"__metadata__": meta}, b""
    for k, t in tensors.items():
        b = t.detach().contiguous().float().numpy().tobytes()
        header[k] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [len(data), len(data) + len(b)]}
        data += b
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    open(path, "wb").write(len(h).to_bytes(8, "little") + h + data)

class Translator(nn.Module):
    def __init__(self, c):
        super().__init__()
        D, pre = c["d_model"], c["norm_first"]
        kw = dict(d_model=D, nhead=c["heads"], dim_feedforward=c["d_ff"], dropout=0.0,
                  activation=c["activation"], batch_first=True, norm_first=pre)
        self.src_embed, self.tgt_embed = nn.Embedding(c["src_vocab"], D), nn.Embedding(c["tgt_vocab"], D)
        self.register_buffer("positions", torch.zeros(c["max_len"], D))
        self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(**kw), c["encoder_layers"],
                                             norm=nn.LayerNorm(D) if pre else None, enable_nested_tensor=False)
        self.decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(**kw), c["decoder_layers"],
                                             norm=nn.LayerNorm(D) if pre else None)
        self.output = nn.Linear(D, c["tgt_vocab"])

    def embed(self, table, ids):  # scaled by sqrt(d_model), plus the positions
        return table(ids) * math.sqrt(table.embedding_dim) + self.positions[: ids.shape[1]]

    def forward(self, src, tgt):  # ids [1, S], [1, T] -> logits [1, T, tgt_vocab]
        memory = self.encoder(self.embed(self.src_embed, src))
        causal = nn.Transformer.generate_square_subsequent_mask(tgt.shape[1])
        return self.output(self.decoder(self.embed(self.tgt_embed, tgt), memory, tgt_mask=causal))

def translate(model, src_vocab, tgt_vocab, sentence):  # greedy, like build/translate
    words = re.findall(r"[a-z0-9]+(?:['-][a-z0-9]+)*|\S", sentence.lower())
    src = torch.tensor([[src_vocab.get(w, 3) for w in words]])
    out = [1]  # <bos>
    for _ in range(2 * len(words) + 10):
        out.append(int(model(src, torch.tensor([out]))[0, -1].argmax()))
        if out[-1] == 2: break  # <eos>
    return src, out[1:-1] if out[-1] == 2 else out[1:]

if __name__ == "__main__":
    args = sys.argv[1:]
    weights, meta = load(args.pop(0))
    compare = load(args.pop(args.index("--compare") + 1)) if "--compare" in args else None
    out = args.pop(args.index("--save") + 1) if "--save" in args else None
    args = [a for a in args if a not in ("--compare", "--save")]
    model = Translator(json.loads(meta["config"])).eval()
    model.load_state_dict(weights, strict=True)
    src_words, tgt_words = json.loads(meta["src_vocab"]), json.loads(meta["tgt_vocab"])
    src_vocab = {w: i for i, w in enumerate(src_words)}
    sentences = json.loads(compare[1]["sentences"]) if compare else args
    with torch.no_grad():
        for i, s in enumerate(sentences):
            src, ids = translate(model, src_vocab, tgt_words, s)
            print(f"pytorch: {s} → {''.join(tgt_words[t] for t in ids)}")
            if compare:  # the logits of qkv's own translation, step by step, against qkv's
                qkv_ids = json.loads(compare[1]["outputs"])[i]
                logits = model(src, torch.tensor([[1] + qkv_ids]))[0]
                diff = (logits - compare[0][f"logits.{i}"]).abs().max().item()
                print(f"         same tokens as qkv: {ids == qkv_ids}; largest logit difference {diff:.2e}")
    if out:  # e.g. after training further in PyTorch; untied output? set "tie_output": false
        save(out, model.state_dict(), meta)
        print(f"saved {out}")
