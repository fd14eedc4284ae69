"""Language-level cue words that are not taxonomy codes: negation, doubt, correction, emphasis.

These say how a reply talks about its reasons, so they hold for any taxonomy; they live in code,
not in the taxonomy file. All entries are folded (see :func:`normalise.fold`) and may use the
phrase syntax of the taxonomy (``*``, ``|``, ``...``).
"""

from __future__ import annotations

# Single words that negate a cue starting up to NEGATION_WINDOW words later in the same clause.
NEGATORS = frozenset(
    {
        "not", "no", "never", "none", "nor", "without", "neither", "hardly",  # en
        "nicht", "kein", "keine", "keinen", "keiner", "ohne", "nie", "weder",  # de
        "pas", "ne", "jamais", "aucun", "aucune", "sans", "ni",  # fr
        "nunca", "sin", "tampoco", "ningun", "ninguna",  # es
        # parity and precondition: "at the same price", "before booking a meeting"
        "same", "equal", "similar", "comparable", "gleich", "gleichem", "gleichen", "meme", "mismo",
        "misma", "before", "bevor", "avant", "antes",
    }
)  # fmt: skip
# Phrases that negate the cues after them in their clause ("nothing to do with our product or price").
PRE_NEGATORS = (
    "nothing to do with", "not about", "not because of", "not due to", "rather than", "instead of",
    "regardless of", "despite", "in spite of", "other than", "not related to", "nichts mit",
    "rien a voir avec", "nada que ver con", "no por",
)  # fmt: skip
PRE_NEGATOR_REACH = 4  # words after a pre-negator phrase that it still covers
# Two-word negators ("rather than reject", "instead of lost").
NEGATOR_PAIRS = frozenset(
    {("rather", "than"), ("instead", "of"), ("plutot", "que"), ("statt", "zu"), ("en", "vez")}
)
NEGATION_WINDOW = 4
# Negation does not reach across these ("the same day and we have a demo booked").
SCOPE_STOPS = frozenset({"and", "but", "so", "which", "und", "aber", "et", "mais", "donc", "y", "pero"})

# After a reason cue in the same clause, these say it was not the reason ("price was fine").
POST_NEGATORS = (
    "not the issue", "not the problem", "not the reason", "not a factor", "not an issue", "not a problem",
    "not a concern", "not the deciding", "no issue", "no problem", "fine", "ok", "okay", "passed", "none",
    "similar", "comparable", "the same", "about the same", "equal",
    "n a",
    "at least level", "on par", "level with", "not what", "irrelevant", "never came up",
    "kein problem", "kein thema", "nicht das problem", "pas le probleme", "pas un probleme",
    "no fue el problema", "no era el problema",
)  # fmt: skip

# A sentence starting with one of these (after at most a few INTERJECTIONS) replaces what was said
# before it, when it says something itself.
CORRECTIONS = (
    "scratch that", "wait", "correction", "wrong deal", "wrong lead", "wrong one", "i meant", "actually no",
    "no wait", "oops", "disregard", "ignore that", "ignore my", "my bad", "on second thought",
    "let me correct", "korrektur", "moment", "en fait non", "correccion", "mejor dicho",
)  # fmt: skip
INTERJECTIONS = frozenset(
    {"actually", "oh", "sorry", "no", "hmm", "ah", "ok", "okay", "um", "uh", "err", "so", "well", "bueno",
     "pues", "alors", "bon", "naja", "also", "eh", "oops"}
)  # fmt: skip

# Doubt about the whole answer: with no plain outcome, the reply is undecided.
GLOBAL_HEDGES = (
    "not sure", "unsure", "hard to say", "either way", "can not say", "too early to tell", "not know yet",
    "unclear", "no clue", "difficult to say", "weiss nicht", "unklar", "schwer zu sagen", "pas sur",
    "difficile a dire", "no estoy seguro", "no se", "dificil de decir",
    "hard to tell", "difficult to tell", "tough to say", "tough to tell", "can not tell",
    "not certain", "uncertain", "who knows", "too soon to tell", "too early to say", "remains to be seen",
    "nicht sicher", "unsicher", "wer weiss",
    "ne sais pas", "pas certain", "incertain", "difficile de dire", "on verra",
    "no lo se", "no estoy segura", "quien sabe", "no esta claro", "dificil de saber",
    # two alternatives left open: "could be good, could be nothing", "might work, might not"
    "could be ... could be", "might be ... might be", "might ... might not",
    "could go ... could go", "maybe yes maybe no", "maybe maybe not", "either or", "toss up", "coin flip",
    "fifty fifty", "50 50", "on the fence", "jury is out", "jury s out", "jury still out", "time will tell",
    "wait and see", "dunno", "do not know", "no way to tell",
    "vielleicht ... vielleicht", "kann sein ... kann", "keine ahnung", "mal sehen", "weiss ich nicht",
    "abwarten", "peut etre ... peut etre", "je ne sais pas", "aucune idee", "on ne sait pas", "a voir",
    "puede que ... puede que", "quizas ... quizas", "ni idea", "ya veremos", "veremos",
    # more in de/fr/es: colloquial "no idea", "can't judge", "could go both ways"
    "schwer einzuschatzen", "schwer abzuschatzen", "schwierig zu sagen", "kann ich nicht sagen",
    "kann man nicht sagen", "lasst sich nicht sagen", "noch unklar", "beide richtungen", "so oder so",
    "steht in den sternen", "wird sich zeigen", "mal schauen", "weiss ich noch nicht", "weiss noch nicht",
    "ungewiss", "kein plan", "keinen plan", "fraglich",
    "je sais pas", "sais pas trop", "j en sais rien", "n en sais rien", "pas clair", "deux sens",
    "difficile a savoir", "rien n est sur", "on ne sait jamais", "pas evident a dire",
    "no lo tengo claro", "no lo veo claro", "no tengo claro", "no sabria decir", "dificil saber",
    "igual si igual no", "lo mismo ... lo mismo", "vete a saber", "a saber", "esta en el aire",
)  # fmt: skip
# Doubt next to a stated outcome (same sentence) or reason (within HEDGE_REACH words): keep the
# answer, ask a person to look.
LOCAL_HEDGES = (
    "maybe", "perhaps", "probably", "i think", "i guess", "i believe", "possibly", "or so",
    "vielleicht", "ich glaube", "wahrscheinlich", "peut etre", "je pense", "je crois", "probablement",
    "quizas", "tal vez", "creo que", "probablemente",
    "might be", "likely", "i suspect", "i assume",
    "assuming", "presumably", "hopefully", "fingers crossed", "not confirmed", "unconfirmed",
    "i reckon", "kinda", "sort of", "kind of",
    "eventuell", "evtl", "moglicherweise", "vermutlich", "ich denke", "ich vermute",
    "sans doute", "a priori", "possiblement", "je suppose",
    "puede que", "a lo mejor", "posiblemente", "supongo", "quiza",
    "ich glaub", "glaube ich", "denke ich", "ich schatze", "schatze ich", "wohl", "vllt", "vlt",
    "anscheinend", "scheinbar", "womoglich", "sieht so aus", "noch nicht unterschrieben", "noch nicht fix",
    "il me semble", "j imagine", "apparemment", "on dirait", "je dirais", "a mon avis", "pas confirme",
    "rien n est signe", "pas encore signe", "sous reserve",
    "parece que", "diria que", "seguramente", "me imagino", "sospecho", "me parece", "capaz que",
    "sin confirmar", "no confirmado", "falta la firma",
)  # fmt: skip

# These make a reason the primary one: the reason before them in their clause ("product fit first
# and foremost"), else the next one in their sentence ("mainly because our champion left").
PROMOTERS = (
    "mainly", "mostly", "primarily", "main reason", "main thing", "first and foremost", "above all",
    "biggest", "key reason", "deciding factor", "decisive", "big selling point", "came down to",
    "hauptsachlich", "vor allem", "hauptgrund", "principalement", "surtout", "raison principale",
    "sobre todo", "lo que mas", "principalmente", "razon principal",
    "i would say", "i d say", "mark it as", "marking it as", "marked as", "rejecting as", "recycling as",
    "accepting as", "put it down to", "in the end", "at the end of the day", "bottom line", "ultimately",
    "ausschlaggebend", "entscheidend", "den ausschlag", "letztlich", "letztendlich", "am ende",
    "decisif", "determinant", "au final", "decisivo", "determinante", "lo que mas peso", "al final",
)  # fmt: skip

# How many words a local hedge may stand from a reason cue to cast doubt on it ("maybe on price").
HEDGE_REACH = 2

# Praise before a reason ("they liked the price"): the reason counts only for a positive outcome.
PRAISE = frozenset(
    {
        "liked", "loved", "love", "happy", "appreciated", "praised", "impressed", "enjoyed", "great",
        "good", "strong", "excellent", "solid", "nice", "fantastic", "amazing", "mochten", "gefiel",
        "aimaient", "apprecie", "gusto", "gustaba", "higher", "better", "best", "superior", "ahead",
    }
)  # fmt: skip

# A negated verb of meeting a requirement does not negate the reason after it: "we couldn't pass
# their security review" states the reason.
FAILURE_VERBS = frozenset(
    {
        "pass",
        "meet",
        "satisfy",
        "clear",
        "comply",
        "match",
        "offer",
        "provide",
        "deliver",
        "handle",
        "bestehen",
        "erfullen",
        "passer",
        "cumplir",
        "superar",
        # more verbs of meeting a bar, in all four languages
        "get", "through", "qualify", "survive", "met", "cleared",
        "bestanden", "erfullt", "geschafft", "passe", "reussi", "valide", "respecte", "respecter",
        "pasamos", "pasar", "paso", "pasaron", "superamos", "supero", "superaron", "cumplimos", "cumplia",
        "aprobamos", "aprobar", "aprobo",
    }
)  # fmt: skip

# Phrases that mean nothing for the taxonomy but contain cue words: matched first, they hide the
# cue inside them ("picked up the phone" is no competitor choice, "demo form" no meeting).
NEUTRAL = (
    "picked up", "pick up", "picking up", "chose to", "selected for", "demo form", "demo request",
    "contact form", "support ticket", "free trial", "time zone", "press release", "get back to you",
    "come back to you", "get back to u", "circle back with you", "check back with you", "get back to me",
    "more later", "details later", "update later", "later today", "talk later",
    "might be worth", "could be worth", "may be worth",
    # doubt about why, not about what: "Won! Not sure why" is a plain answer
    "not sure why", "unsure why", "no idea why", "not know why", "not sure what happened",
    "no idea what happened", "dunno why", "don t know why", "do not know why", "not clear why",
    "no clue why", "god knows why", "who knows why", "weiss nicht warum", "weiss nicht wieso",
    "ne sais pas pourquoi", "sais pas pourquoi", "no se por que", "no se porque", "ni idea de por que",
    # a hand-over between colleagues is no win: "Sarah took it over" ("took it" alone is one)
    "took|take|takes|taken|taking over", "took|take|takes|taken|taking it|this|that over",
    # doubt about the request, not about the answer: "Not sure what you mean", "not sure which lead"
    "not sure what|which|who|where|whose", "unsure what|which|who|where", "do not know what|which|who|where",
    "weiss nicht was|welche|welcher|wer|wo", "ne sais pas quel|quelle|qui|ce|de quel|de quoi|ou",
    "no se que|cual|quien|donde|de que",
)  # fmt: skip

# Choice phrases ("they chose X") point at a competitor only when one is named after them; with
# no competitor found ("they picked Monday for the kickoff") their cues are ignored.
CHOICE_PHRASES = frozenset(
    {
        "chose",
        "picked",
        "selected",
        "preferred",
        "went with",
        "going with",
        "gone with",
        "signed with",
        "switched to",
    }
)

# A question opening like this asks for an action ("Can you mark it as lost?"), not doubt.
REQUEST_OPENERS = frozenset(
    {
        "can you",
        "could you",
        "would you",
        "can we",
        "could we",
        "please",
        "pls",
        "plz",
        "shall i",
        "should i",
        "do you",
        "did you",
        "kannst du",
        "konnen sie",
        "pouvez vous",
        "peux tu",
        "puedes",
        "podrias",
        "por favor",
    }
)

# After a reason cue in its clause, praise ("support was excellent", "rated higher"): the reason
# counts only for the positive outcome, as with PRAISE before it.
POST_PRAISE = (
    "was|were|is|are great|strong|excellent|good|better|best|superior|solid|praised|liked|loved|impressive",
    "rated higher", "came out ahead", "top notch", "was the best", "were the best",
)  # fmt: skip

# A problem worked around after a contrast is not the reason: "The email bounced but I reached him
# by phone - not interested" clears "bounced" (reason cues in earlier clauses of the sentence).
WORKAROUNDS = (
    "reached him|her|them", "got through", "got hold of", "spoke to|with", "talked to|with",
    "got him|her|them on the phone", "found ... right|correct|new address|number|email",
    "called ... directly", "erreicht", "gesprochen", "joint", "hable con",
)  # fmt: skip

# After a reason cue in its clause, criticism ("price was the killer", "pricing was a blocker"), or
# before it ("issue with the price"): a cue shared by several outcomes ("price": won/price_value,
# lost/price) keeps only its readings for the other outcomes than the positive one.
POST_CRITICISM = (
    "killer", "the killer", "deal breaker", "dealbreaker", "deal killer", "a blocker", "the blocker",
    "blocker", "sticking point", "the issue", "an issue", "the problem", "a problem", "too high", "too steep",
    "hurt us", "killed us", "killed it", "killed the deal", "a concern", "an obstacle",
    "zu hoch", "das problem", "ein problem", "k o kriterium", "le probleme", "un probleme", "trop eleve",
    "bloquant", "redhibitoire", "el problema", "un problema", "demasiado alto", "un obstaculo",
)  # fmt: skip
PRE_CRITICISM = (
    "an issue with", "a problem with", "an issue about", "a concern about", "issue with", "issues with",
    "problem with", "problems with", "concerns about", "concern about",
    "concerns over", "worried about", "pushback on", "objection to", "objections to", "balked at",
    "struggled with", "problem mit", "probleme mit", "probleme de", "probleme avec", "problema con",
    "problemas con",
)  # fmt: skip
CRITICISM_REACH = 3  # words after a pre-criticism phrase that it still covers
# Single-word post-negators that are adjectives: before a noun they describe it ("references from
# similar clients", "a fine product"), they do not clear a reason.
ATTRIBUTIVE = frozenset({"similar", "comparable", "equal", "fine", "ok", "okay"})
# Words that may follow such an adjective when it is still said of the reason ("similar to X").
ATTRIBUTIVE_FOLLOWERS = frozenset(
    {"to", "with", "across", "for", "between", "on", "in", "overall", "too", "as", "and", "really", "anyway"}
)

# Rival superiority (see rivals.py): a third-person subject ...
# the reason code for losing to a competitor (the default taxonomy's lost/competitor); a taxonomy
# without it gets no "Contoso won" -> lost reading
LOST_TO_RIVAL = "competitor"
RIVALS = frozenset(
    {
        "they", "their", "theirs", "them", "competitor", "competitors", "competition", "incumbent", "other",
        "others", "rival", "rivals", "alternative",
        "deren", "ihre", "ihr", "ihren", "konkurrenz", "wettbewerber", "mitbewerber", "andere", "anderen",
        "leur", "leurs", "ils", "concurrent", "concurrents", "concurrence", "autre",
        "su", "sus", "ellos", "competidor", "competidores", "competencia", "otro", "otra", "tenian",
        "ofrecian", "eran",
    }
)  # fmt: skip
# ... before one of these in its clause: the rival is praised or compared favourably.
COMPARATIVES = frozenset(
    {
        "better", "best", "stronger", "strongest", "nicer", "superior", "cheaper", "cheapest", "slicker",
        "richer", "faster", "easier", "more", "ahead", "higher", "prettier", "cleaner", "smoother",
        "broader", "deeper", "lower", "great", "excellent", "strong", "solid", "nice", "fantastic",
        "amazing", "outstanding", "impressive", "sharper", "modern", "mature",
        "besser", "bessere", "besseren", "besseres", "gunstiger", "billiger", "starker", "schoner", "mehr",
        "einfacher", "schneller", "uberlegen",
        "meilleur", "meilleure", "meilleurs", "meilleures", "plus", "superieur", "superieure", "superieurs",
        "mejor", "mejores", "mas", "superiores", "barato", "baratos",
    }
)  # fmt: skip
# Words of our side: a clause holding one (except right after THAN: "cheaper than us") is not
# about a rival.
FIRST_PERSON = frozenset(
    {
        "we", "our", "ours", "us", "wir", "unser", "unsere", "unseren", "unserer", "uns", "nous", "notre",
        "nos", "nosotros", "nuestro", "nuestra", "nuestros", "nuestras",
    }
)  # fmt: skip
THAN = frozenset({"than", "als", "que", "de"})
# The buyer's wants: "they wanted better reporting" is a need, not a rival's strength.
WANTS = frozenset(
    {
        "want", "wanted", "wants", "need", "needed", "needs", "require", "required", "requires", "asked",
        "expected", "expect", "looking", "brauchten", "brauchen", "wollten", "wollen", "benotigten",
        "voulaient", "veulent", "cherchaient", "querian", "quieren", "necesitaban", "necesitan", "buscaban",
    }
)  # fmt: skip
