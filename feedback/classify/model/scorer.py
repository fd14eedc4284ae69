"""Score a reply with fitted weights: plain numpy, no scikit-learn (the worker's hot path).

A model file (``.npz``) holds, per kind, a vocabulary (feature name -> row), one float32 weight
matrix whose columns are the heads side by side, and a bias vector; a JSON ``meta`` entry names
each head's classes and carries the combination settings chosen on dev data. Heads:

- ``outcome``: softmax over the kind's outcomes and ``-`` (the reply states none);
- ``primary``: softmax over reason codes and ``-`` (no reason given);
- ``reasons``: one sigmoid per reason code (is it among the reasons, in any place);
- ``review``: one sigmoid (would a careful reader send it to review).
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

from feedback.classify.classification import ClassificationResult
from feedback.classify.model.features import (
    RULE_WEIGHT,
    char_grams,
    length_feature,
    rule_features,
    word_features,
    words_of,
)

NONE = "-"  # the class "the reply states no outcome / no reason"
HEADS = ("outcome", "primary", "reasons", "review")
SHIPPED = "classifier.npz"

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Scores:
    """A model's reading of one reply."""

    outcome: dict[str, float]  # class -> probability (sums to 1; ``-`` = no outcome)
    primary: dict[str, float]  # class -> probability (sums to 1; ``-`` = no reason)
    reasons: dict[str, float]  # code -> probability of being one of the reasons
    review: float  # probability a careful reader would send it to review


@dataclass(frozen=True, slots=True)
class KindWeights:
    vocab: dict[str, int]
    weights: F32  # (features, columns)
    bias: F32  # (columns,)
    classes: dict[str, tuple[str, ...]]  # head -> class names, in column order
    slices: dict[str, tuple[int, int]]  # head -> (first column, end)
    # word -> (vocabulary rows of its character n-grams, how many n-grams it has)
    _words: dict[str, tuple[tuple[int, ...], int]] = field(default_factory=dict, compare=False, repr=False)

    def score(self, text: str, rules: ClassificationResult | None) -> Scores:
        """The heads' probabilities; the same numbers as ``featurise`` + the fitted regressions,
        computed from per-word caches (a word's character n-gram rows are looked up once)."""
        words = words_of(text)
        vocab = self.vocab
        rows: list[int] = []
        vals: list[float] = []
        wf = word_features(words, text)
        v = 1.0 / math.sqrt(len(wf))
        for name in wf:
            row = vocab.get(name)
            if row is not None:
                rows.append(row)
                vals.append(v)
        for name in rule_features(rules):
            row = vocab.get(name)
            if row is not None:
                rows.append(row)
                vals.append(RULE_WEIGHT)
        row = vocab.get(length_feature(words))
        if row is not None:
            rows.append(row)
            vals.append(1.0)
        char_start = len(rows)
        total = 0
        cache = self._words
        for w in words:
            hit = cache.get(w)
            if hit is None:
                grams = char_grams(w)
                hit = (tuple(r for g in grams if (r := vocab.get(g)) is not None), len(grams))
                if len(cache) > 100_000:
                    cache.clear()
                cache[w] = hit
            rows.extend(hit[0])
            total += hit[1]
        if total:
            vals.extend([1.0 / math.sqrt(total)] * (len(rows) - char_start))
        z = self.bias.copy()
        if rows:  # take() with an index array: a fancy index from a list costs several times more
            picked = self.weights.take(np.array(rows, dtype=np.intp), axis=0)
            z += np.array(vals, dtype=np.float32) @ picked
        return self.from_logits(z)

    def from_logits(self, z: F32) -> Scores:
        logits = z.tolist()  # a few dozen numbers: plain floats are quicker than numpy here

        def softmax(head: str) -> dict[str, float]:
            a, b = self.slices[head]
            part = logits[a:b]
            top = max(part)
            e = [math.exp(x - top) for x in part]
            total = sum(e)
            return {c: x / total for c, x in zip(self.classes[head], e, strict=True)}

        def sigmoid(head: str) -> dict[str, float]:
            a, b = self.slices[head]
            return {c: _sigmoid(x) for c, x in zip(self.classes[head], logits[a:b], strict=True)}

        review = sigmoid("review")
        return Scores(
            outcome=softmax("outcome"),
            primary=softmax("primary"),
            reasons=sigmoid("reasons"),
            review=review.get("review", 0.0),
        )


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@dataclass(frozen=True, slots=True)
class ClassifierModel:
    """Fitted weights for some kinds, and the settings that combine them with the rules."""

    kinds: dict[str, KindWeights]
    meta: dict[str, Any] = field(default_factory=dict)
    version: int | None = None  # the database version it came from; None for the shipped one

    def score(self, text: str, *, kind: str, rules: ClassificationResult | None) -> Scores | None:
        weights = self.kinds.get(kind)
        return None if weights is None else weights.score(text, rules)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled for the analysis process pool: the shipped model by reference (each process
        loads its own copy once), a trained version by its bytes, decoded once per process."""
        if self.version is None and self is shipped_model():
            return (shipped_model, ())
        return (_restore, (self.version, self.to_bytes()))

    def setting(self, kind: str, name: str, default: float) -> float:
        value = self.meta.get("combine", {}).get(kind, {}).get(name, default)
        return float(value)

    def to_bytes(self) -> bytes:
        arrays: dict[str, Any] = {"meta": np.frombuffer(json.dumps(self.meta).encode(), dtype=np.uint8)}
        for kind, kw in self.kinds.items():
            names = sorted(kw.vocab, key=kw.vocab.__getitem__)
            arrays[f"{kind}.vocab"] = np.frombuffer("\x00".join(names).encode(), dtype=np.uint8)
            arrays[f"{kind}.weights"] = kw.weights.astype(np.float32)
            arrays[f"{kind}.bias"] = kw.bias.astype(np.float32)
            arrays[f"{kind}.classes"] = np.frombuffer(json.dumps(kw.classes).encode(), dtype=np.uint8)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, *, version: int | None = None) -> ClassifierModel:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            meta = json.loads(npz["meta"].tobytes().decode())
            kinds: dict[str, KindWeights] = {}
            for kind in meta.get("kinds", []):
                names = npz[f"{kind}.vocab"].tobytes().decode().split("\x00")
                classes = {
                    h: tuple(c) for h, c in json.loads(npz[f"{kind}.classes"].tobytes().decode()).items()
                }
                kinds[kind] = make_kind_weights(names, npz[f"{kind}.weights"], npz[f"{kind}.bias"], classes)
        return cls(kinds=kinds, meta=meta, version=version)


def make_kind_weights(
    names: list[str], weights: Any, bias: Any, classes: dict[str, tuple[str, ...]]
) -> KindWeights:
    slices: dict[str, tuple[int, int]] = {}
    start = 0
    for head in HEADS:
        n = len(classes.get(head, ()))
        slices[head] = (start, start + n)
        start += n
    return KindWeights(
        vocab={n: i for i, n in enumerate(names)},
        weights=np.ascontiguousarray(weights, dtype=np.float32),
        bias=np.ascontiguousarray(bias, dtype=np.float32),
        classes={h: tuple(classes.get(h, ())) for h in HEADS},
        slices=slices,
    )


_RESTORED: dict[int | None, ClassifierModel] = {}


def _restore(version: int | None, data: bytes) -> ClassifierModel:
    """A trained version in another process: decoded the first time, reused after."""
    model = _RESTORED.get(version)
    if model is None or version is None:
        model = ClassifierModel.from_bytes(data, version=version)
        _RESTORED.clear()  # one active version at a time
        _RESTORED[version] = model
    return model


@lru_cache(maxsize=1)
def shipped_model() -> ClassifierModel | None:
    """The model fitted on the shipped labelled corpus (package data), or None if absent."""
    try:
        data = resources.files("feedback.classify.model").joinpath(SHIPPED).read_bytes()
    except (FileNotFoundError, OSError):
        return None
    return ClassifierModel.from_bytes(data)
