"""Cheap typo repair: a misspelt word is mapped onto a cue word one edit away.

Reps type fast ("rejcted", "recylced", "intrested", "lsot"). A word is only repaired when it is
not a cue word itself, not a common word, at least five letters long (one edit, same first
letter), or, for short outcome words ("wno", "lsot"), a swap of two neighbouring letters at the
start of a sentence. Results are cached per lexicon, so a word costs one lookup after the first
time.
"""

from __future__ import annotations

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from feedback.classify.lexicon import KindLexicon

# Frequent words that sit one edit away from a cue word and must not be "repaired".
COMMON_WORDS = frozenset(
    ["about", "above", "after", "again", "against", "all", "also", "always", "among", "an", "and", "another", "any", "anyone", "anything", "are", "around", "as", "ask", "asked", "at", "away", "back", "bad", "be", "because", "been", "before", "being", "below", "best", "better", "between", "big", "both", "bring", "brought", "but", "by", "call", "called", "calls", "came", "can", "case", "cause", "change", "check", "clear", "close", "closer", "come", "comes", "could", "couple", "course", "current", "day", "days", "deal", "deals", "did", "different", "do", "does", "doing", "done", "down", "during", "each", "early", "either", "else", "end", "enough", "even", "ever", "every", "few", "find", "first", "for", "found", "from", "full", "get", "gets", "getting", "give", "given", "go", "goes", "going", "good", "got", "great", "had", "has", "have", "having", "he", "hear", "heard", "help", "her", "here", "him", "his", "hold", "home", "how", "however", "if", "in", "into", "is", "it", "its", "just", "keep", "kept", "kind", "knew", "know", "known", "large", "last", "late", "later", "latter", "least", "left", "less", "let", "like", "likely", "little", "long", "look", "looked", "looking", "lot", "lots", "made", "main", "make", "makes", "making", "many", "may", "me", "mean", "meant", "might", "mind", "more", "most", "much", "must", "my", "need", "needed", "needs", "never", "new", "next", "nice", "no", "none", "nor", "not", "nothing", "now", "of", "off", "often", "old", "on", "once", "one", "only", "open", "or", "order", "other", "our", "out", "over", "own", "part", "past", "people", "per", "place", "plan", "plans", "point", "prices", "pride", "prize", "probably", "put", "quite", "rather", "read", "ready", "real", "really", "right", "said", "same", "saw", "say", "says", "see", "seem", "seen", "send", "sent", "set", "several", "shall", "she", "short", "should", "show", "side", "since", "small", "so", "some", "someone", "something", "soon", "sort", "spend", "spent", "start", "started", "state", "still", "stop", "stopped", "stuck", "such", "sure", "take", "taken", "team", "tell", "than", "thank", "thanks", "that", "the", "their", "them", "then", "there", "these", "they", "thing", "things", "think", "this", "those", "though", "thought", "through", "till", "time", "times", "to", "today", "told", "too", "took", "toward", "tried", "tries", "true", "try", "trying", "turn", "under", "until", "up", "upon", "us", "use", "used", "using", "very", "want", "wanted", "wants", "was", "way", "we", "week", "weeks", "well", "went", "were", "what", "when", "where", "whether", "which", "while", "who", "whole", "whom", "whose", "why", "will", "wish", "with", "within", "without", "word", "words", "work", "worked", "working", "works", "would", "year", "years", "yes", "yet", "you", "your", "bonus", "layer", "plot", "pilots", "valve", "values", "valued", "stack", "stick", "stock", "stuck", "spend", "speed", "spent", "slot", "slots", "taming", "trusts", "truth", "lacks", "locks", "locked", "looked", "loose", "loser", "close", "closed", "loses", "losing", "lost", "lose", "won", "own", "win", "wins", "wine", "wind", "window", "sign", "signs", "signal", "single", "shared", "share", "price", "prices", "spare", "spark", "agenda", "legacy", "legally", "legal", "budget", "budgets", "budgeted", "bounce", "bounced", "product", "products", "produce", "support", "supports", "service", "services", "serve", "served", "trial", "trials", "final", "finally", "finance", "financial", "integrate", "value", "students", "student", "vendor", "vendors", "agency", "agencies", "reason", "reasons", "season"]
)


def repair(lex: KindLexicon, word: str, *, sentence_start: bool) -> str | None:
    """The cue word ``word`` most likely misspells, or None."""
    if not word.isalpha() or word in COMMON_WORDS or lex.is_known(word):
        return None
    n = len(word)
    if n <= 4:
        if not sentence_start or n < 3:
            return None
        for target in lex.outcome_words:
            if len(target) == n and _is_swap(word, target):
                return target
        return None
    key = word
    cached = lex.typo_cache.get(key, "")
    if cached != "":
        return cached
    best: str | None = None
    candidates = lex.typo_targets
    if candidates:
        found = process.extractOne(word, candidates, scorer=DamerauLevenshtein.distance, score_cutoff=1)
        if found is not None and found[0][0] == word[0]:
            best = found[0]
    if len(lex.typo_cache) < 20_000:
        lex.typo_cache[key] = best
    return best


def _is_swap(word: str, target: str) -> bool:
    diff = [i for i, (a, b) in enumerate(zip(word, target, strict=True)) if a != b]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and word[diff[0]] == target[diff[1]] and word[diff[1]] == target[diff[0]]
