"""Classification of a citizen's description into type, topic and urgency (spec section 5).

The default classifier is a linear model learned from the labelled corpus in
handlers/classification/training (trained by bot.training.model, applied by
handlers.classification.compact), with the explicit emergency rules of
handlers.classification.urgency on top. It is loaded the first time a text is classified; this
module imports no numeric library, so that commands that never classify start fast.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable

from handlers.classification.urgency import denies_emergency, is_emergency
from handlers.core.normalise import fold

# Defined with the other ports; imported from here too, as they were before.
from handlers.core.ports import Classification, Classifier

# A description is read whole up to this length (a case keeps at most 4,000 characters of it;
# a single chat message is at most 4,096): longer texts are cut, so that reading stays bounded.
MAX_CHARS = 12000
RECENT = 256  # classifications remembered per process


# Abbreviations of chat Spanish, folded; the model sees the full word.
_ABBREVIATIONS = {
    "q": "que",
    "k": "que",
    "ke": "que",
    "xq": "porque",
    "pq": "porque",
    "porq": "porque",
    "xk": "porque",
    "x": "por",
    "xfa": "por favor",
    "porfa": "por favor",
    "porfavor": "por favor",
    "plis": "por favor",
    "pls": "por favor",
    "tmb": "tambien",
    "tb": "tambien",
    "d": "de",
    "dnd": "donde",
    "aser": "hacer",
    "aora": "ahora",
    "ola": "hola",
    "bn": "bien",
    "msj": "mensaje",
    "info": "informacion",
}
# Greetings say nothing about the case, yet some kinds of message start with them more often.
_COURTESY = frozenset(
    ("hola", "ola", "holi", "buenas", "buenos", "buen", "dia", "dias", "tardes", "noches")
    + ("saludos", "disculpe", "disculpa")
)
_TOKEN = re.compile(r"[a-z0-9ñ]+")
_REPEATS = re.compile(r"([a-zñ])\1{2,}")


def normalise(text: str) -> str:
    """What the model reads: the text (up to MAX_CHARS characters), folded, chat spellings
    expanded."""
    folded = _REPEATS.sub(r"\1\1", fold(text[:MAX_CHARS]))
    tokens = (_ABBREVIATIONS.get(token, token) for token in _TOKEN.findall(folded))
    return " ".join(token for token in tokens if token not in _COURTESY)


def decide_urgency(text: str, predicted: str) -> str:
    """The model's urgency, overruled by the explicit rules: an emergency they recognise is one,
    and when the person says it is not an emergency (or it was long ago) it is not."""
    folded = fold(text[:MAX_CHARS])
    if is_emergency(folded):
        return "emergencia"
    if predicted == "emergencia" and denies_emergency(folded):
        return "urgente"
    return predicted


class LazyClassifier:
    """Loads (or trains) the model the first time it is asked to classify, once per process."""

    def __init__(self, loader: Callable[[], Classifier]) -> None:
        self._loader = loader
        self._lock = threading.Lock()
        self._classifier: Classifier | None = None
        # The dialogue asks about a description's first piece and then about the whole, which
        # is often the same text: recent answers are remembered (the model is deterministic).
        self._recent: OrderedDict[str, Classification] = OrderedDict()

    def loaded(self) -> Classifier:
        """The classifier, loading it now if it is not yet."""
        with self._lock:
            if self._classifier is None:
                self._classifier = self._loader()
            return self._classifier

    def reload(self) -> None:
        """Forget the loaded model (a retrained one replaced it): the next text loads it anew."""
        with self._lock:
            self._classifier = None
            self._recent.clear()

    def classify(self, text: str) -> Classification:
        """Propose labels for a description."""
        with self._lock:
            known = self._recent.get(text)
        if known is not None:
            return known
        result = self.loaded().classify(text)
        with self._lock:
            self._recent[text] = result
            if len(self._recent) > RECENT:
                self._recent.popitem(last=False)
        return result
