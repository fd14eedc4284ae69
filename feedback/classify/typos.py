"""Cheap typo repair: a misspelt word is mapped onto a cue word one edit away.

Reps type fast ("rejcted", "recylced", "intrested", "lsot"). A word is only repaired when it is
not a cue word itself, not a common word, at least five letters long (one edit, same first
letter), or, for short outcome words ("wno", "lsot"), a swap of two neighbouring letters at the
start of a sentence. Results are cached per lexicon, so a word costs one lookup after the first
time.
"""

from __future__ import annotations

from importlib import resources

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from feedback.classify.cue_lexicon import KindLexicon

# Words one edit away from a cue word that must not be "repaired", on top of common_words.txt.
_NEAR_CUES = """
bonus layer plot pilots valve values valued stick stock stuck spend spent slot slots taming trusts
truth lacks locks locked looked loose loser close closed loses losing own wine wind window sign
signs signal single shared share spare spark agenda legacy legally prices pride prize produce
serve served trial trials final finally finance financial season writing wrote three there
market markets marketing marked pricing priced stage staged
"""
# Common German, French and Spanish words of five letters or more (folded): common_words.txt is
# English, and a foreign word one edit from an English cue is no typo ("Lösung" is not "losing").
_FOREIGN = """
losung losungen leider aktuell aktuelle aktuellen bereits wieder nochmal schon sollen wollen konnen
mussen haben hatten hatte werden wurde wurden waren immer einen einem einer eines diese dieser dieses
unsere unser unseren ihrer ihren ihrem keine keinen nicht nichts etwas jetzt danach vorher gerade
kunde kunden firma unternehmen projekt angebot termin anfrage lizenz lizenzen preis preise kosten
zeitpunkt entscheidung entschieden geschaftsfuhrer abteilung leiter meldet melden sagen gesagt
fragen gefragt rufen angerufen schreiben geschrieben zusammen zwischen wahrend nachdem obwohl deshalb
daher wegen trotzdem vielen danke gruss grusse besten freundlichen
votre notre leurs elles cette aussi encore toujours depuis avant apres pendant parce
comme entre leur nous vous avons avait avaient etait etaient seront serait client clients societe
projet besoin offre contrat devis prix equipe directeur reponse retour merci bonne journee cordialement
semaine prochaine mois annee aujourd demain quand alors donc mais toute toutes autres autre plutot
nuestro nuestra nuestros nuestras ellos ellas tienen tenemos tenian hemos habia estan estaba estamos
porque cuando donde desde hasta despues antes entre sobre tambien todavia ahora luego mucho muchas
muchos empresa cliente clientes proyecto oferta contrato precio equipo director respuesta gracias
saludos semana proximo proxima mañana manana siempre nunca quieren queria pueden puede llamada
directo directa directamente salia salio decidio decidieron decidir hicimos hicieron tuvimos tuvieron
estaban estuvo fueron dijeron dijo queda quedan quedaron llamar escribir enviar mandar hablar hablamos
tambien bastante demasiado ninguno alguna alguno algunos todos todas mismo misma mismos otras otros
nadie ademas aunque mientras contra frente sobre durante segun pronto tarde ayer semanas meses
jamais toujours encore avait avons avez etaient serait pourrait faire fallait voulait veulent peuvent
doivent depuis pendant malgre contre chose choses personne personnes aucun aucune quelque plusieurs
ensuite enfin bientot hier semaines matin soir reunion appele appeler ecrire envoye envoyer parler
wirklich eigentlich erstmal einfach schnell leider vielleicht bisher wieder sonst damit dafur dabei
darum davon deren denen dessen welche welcher welches solche manche niemand jemand nochmal bitte
gestern morgen heute woche wochen monat monate jahre stunde stunden anrufen melden schicken geschickt
gesprochen sprechen machen gemacht kommen kommt gehen geht sehen gesehen wissen wollte sollte konnte
musste wurden worden zwischen nachste nachsten nachstes letzte letzten letztes
stark starke starken telefon telefonat klingelt richtig wichtig ziemlich genau besser gleich wenig
weniger mehr ganze ganzen grosse grossen kleine kleinen neuen neues gerne meinung frage fragen sache
leute person personen stelle stellen seite seiten punkt punkte grund grunde stand status thema themen
appel appels telephone numero courriel message messages suivi relance relances rendez sujet raison
tarif tarifs budget affaire affaires dossier dossiers reponse personne semaine
telefono correo mensaje mensajes seguimiento llamadas reunion asunto razon motivo tarifa negocio
intentado intentamos intente intento intentar probado probamos mitten mittag probier probieren
"""
COMMON_WORDS = (
    frozenset(_NEAR_CUES.split())
    | frozenset(_FOREIGN.split())
    | frozenset(
        line.strip()
        for line in resources.files("feedback.classify")
        .joinpath("common_words.txt")
        .read_text("utf-8")
        .splitlines()
        if line.strip() and not line.startswith("#")
    )
)


def repair(lex: KindLexicon, word: str, *, sentence_start: bool) -> str | None:
    """The cue word ``word`` most likely misspells, or None."""
    if len(word) <= 4:
        if (
            not sentence_start
            or len(word) < 3
            or not word.isalpha()
            or word in COMMON_WORDS
            or lex.is_known(word)
        ):
            return None
        for target in lex.outcome_words:
            if len(target) == len(word) and _is_swap(word, target):
                return target
        return None
    cache = lex.typo_cache
    if word in cache:
        return cache[word]
    best: str | None = None
    if word.isalpha() and word not in COMMON_WORDS and not lex.is_known(word) and lex.typo_targets:
        found = process.extractOne(word, lex.typo_targets, scorer=DamerauLevenshtein.distance, score_cutoff=1)
        # a cue that only adds an ending is another form of the word, not its typo ("chase" is
        # not "chased", "probier" not "probiert")
        if found is not None and found[0][0] == word[0] and not found[0].startswith(word):
            best = found[0]
    if len(cache) < 50_000:
        cache[word] = best
    return best


_UMLAUT_SPELLINGS = (("ae", "a"), ("oe", "o"), ("ue", "u"))


def umlaut_spelling(lex: KindLexicon, word: str) -> str | None:
    """German typed without umlauts ("zurueck", "naechste", "fuer") as the folded umlaut word
    ("zuruck", "nachste", "fur"), when that is a word the lexicon knows; no typo, so no penalty."""
    if len(word) < 3 or ("ae" not in word and "oe" not in word and "ue" not in word):
        return None
    cache = lex.umlaut_cache
    if word in cache:
        return cache[word]
    folded = word
    for typed, umlaut in _UMLAUT_SPELLINGS:
        folded = folded.replace(typed, umlaut)
    found = folded if folded != word and lex.is_known(folded) else None
    if len(cache) < 50_000:
        cache[word] = found
    return found


def _is_swap(word: str, target: str) -> bool:
    diff = [i for i, (a, b) in enumerate(zip(word, target, strict=True)) if a != b]
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and word[diff[0]] == target[diff[1]]
        and word[diff[1]] == target[diff[0]]
    )
