"""The words of the weekly digest that come from the summary report, in each digest language.

The digest's own prose (subject, heading, closing lines) lives in its template
(``templates/digest.j2``, ``templates/de/digest.j2``...), which an admin can change. What the
report computes, the headline figures' names, the tables' titles and column heads, and the notes,
is named here, keyed by the English the report writes, so a report that adds a figure shows it
in English until someone adds its translation (never an error, never a blank).
"""

from __future__ import annotations

from feedback.reports.model import LOW_SAMPLE

_DE = {
    "Follow-up SLA: answers within {hours} business hours (requests sent this week)": (
        "Nachfass-SLA: Antworten innerhalb von {hours} Arbeitsstunden (diese Woche gesendete Anfragen)"
    ),
    "SLA by team": "SLA nach Team",
    "Figure": "Kennzahl",
    "Value": "Wert",
    "Team": "Team",
    "Requests sent": "Gesendete Anfragen",
    "Within SLA": "Innerhalb der SLA",
    "Median business hours": "Arbeitsstunden (Median)",
    "p90 business hours": "Arbeitsstunden (p90)",
    "Median reminders": "Erinnerungen (Median)",
    "p90 reminders": "Erinnerungen (p90)",
    "Escalated": "Eskaliert",
    "Expired": "Abgelaufen",
    "Answered within the SLA": "Innerhalb der SLA beantwortet",
    "Median business hours to answer": "Arbeitsstunden bis zur Antwort (Median)",
    "p90 business hours to answer": "Arbeitsstunden bis zur Antwort (p90)",
    "Median reminders needed": "Nötige Erinnerungen (Median)",
    "p90 reminders needed": "Nötige Erinnerungen (p90)",
    "Escalated to the manager": "An die Führungskraft eskaliert",
    "Expired unanswered": "Unbeantwortet abgelaufen",
    "Leads handed to sales": "An den Vertrieb übergebene Leads",
    "Leads answered": "Leads beantwortet",
    "Leads: replied, no outcome": "Leads: Antwort ohne Ergebnis",
    "Leads: clarification asked": "Leads: Rückfrage gestellt",
    "Leads: in review": "Leads: in Prüfung",
    "Leads accepted (of answered)": "Leads angenommen (der beantworteten)",
    "Median hours to answer": "Stunden bis zur Antwort (Median)",
    "Closed deals asked about": "Abgeschlossene Deals angefragt",
    "Deals answered": "Deals beantwortet",
    "Deals: replied, no outcome": "Deals: Antwort ohne Ergebnis",
    "Deals: clarification asked": "Deals: Rückfrage gestellt",
    "Deals: in review": "Deals: in Prüfung",
    "Win rate (CRM)": "Abschlussquote (CRM)",
    "CRM and rep disagree": "CRM und Vertrieb widersprechen sich",
    "Leads by campaign": "Leads nach Kampagne",
    "Why leads are accepted or not": "Warum Leads angenommen werden oder nicht",
    "Why deals are won and lost": "Warum Deals gewonnen und verloren werden",
    "Competitors named": "Genannte Wettbewerber",
    "Campaign": "Kampagne",
    "Leads": "Leads",
    "Answered": "Beantwortet",
    "Replied, no outcome": "Antwort ohne Ergebnis",
    "Clarification asked": "Rückfrage gestellt",
    "In review": "In Prüfung",
    "Accepted": "Angenommen",
    "Outcome": "Ergebnis",
    "Reason": "Grund",
    "Mentions": "Nennungen",
    "Share of the outcome's answers": "Anteil an den Antworten mit diesem Ergebnis",
    "Competitor": "Wettbewerber",
    "Win rate against": "Abschlussquote gegen",
    "Amount lost": "Verlorener Betrag",
    "(none)": "(keine)",
    "(no outcome)": "(kein Ergebnis)",
    "no answers this week": "diese Woche keine Antworten",
    "answer_note": (
        "Beantwortet: eine verwertbare Antwort (ein Ergebnis, vom Vertrieb, einer Führungskraft oder "
        "aus der Prüfung). Antworten ohne Ergebnis, offene Rückfragen und Antworten in Prüfung "
        "zählen gesondert, nie als beantwortet."
    ),
    "low_note": f"† weniger als {LOW_SAMPLE} Antworten: zu wenige für eine Quote.",
}

_FR = {
    "Follow-up SLA: answers within {hours} business hours (requests sent this week)": (
        "SLA de relance : réponses en {hours} heures ouvrées au plus (demandes envoyées cette semaine)"
    ),
    "SLA by team": "SLA par équipe",
    "Figure": "Indicateur",
    "Value": "Valeur",
    "Team": "Équipe",
    "Requests sent": "Demandes envoyées",
    "Within SLA": "Dans le SLA",
    "Median business hours": "Heures ouvrées (médiane)",
    "p90 business hours": "Heures ouvrées (p90)",
    "Median reminders": "Relances (médiane)",
    "p90 reminders": "Relances (p90)",
    "Escalated": "Escaladées",
    "Expired": "Expirées",
    "Answered within the SLA": "Réponses dans le SLA",
    "Median business hours to answer": "Heures ouvrées avant réponse (médiane)",
    "p90 business hours to answer": "Heures ouvrées avant réponse (p90)",
    "Median reminders needed": "Relances nécessaires (médiane)",
    "p90 reminders needed": "Relances nécessaires (p90)",
    "Escalated to the manager": "Escaladées au manager",
    "Expired unanswered": "Expirées sans réponse",
    "Leads handed to sales": "Leads transmis aux commerciaux",
    "Leads answered": "Leads avec réponse",
    "Leads: replied, no outcome": "Leads : réponse sans résultat",
    "Leads: clarification asked": "Leads : précision demandée",
    "Leads: in review": "Leads : en vérification",
    "Leads accepted (of answered)": "Leads acceptés (parmi les réponses)",
    "Median hours to answer": "Délai médian de réponse (heures)",
    "Closed deals asked about": "Affaires conclues interrogées",
    "Deals answered": "Affaires avec réponse",
    "Deals: replied, no outcome": "Affaires : réponse sans résultat",
    "Deals: clarification asked": "Affaires : précision demandée",
    "Deals: in review": "Affaires : en vérification",
    "Win rate (CRM)": "Taux de gain (CRM)",
    "CRM and rep disagree": "CRM et commercial en désaccord",
    "Leads by campaign": "Leads par campagne",
    "Why leads are accepted or not": "Pourquoi les leads sont acceptés ou non",
    "Why deals are won and lost": "Pourquoi les affaires sont gagnées ou perdues",
    "Competitors named": "Concurrents cités",
    "Campaign": "Campagne",
    "Leads": "Leads",
    "Answered": "Avec réponse",
    "Replied, no outcome": "Réponse sans résultat",
    "Clarification asked": "Précision demandée",
    "In review": "En vérification",
    "Accepted": "Acceptés",
    "Outcome": "Résultat",
    "Reason": "Raison",
    "Mentions": "Mentions",
    "Share of the outcome's answers": "Part des réponses de ce résultat",
    "Competitor": "Concurrent",
    "Win rate against": "Taux de gain face à lui",
    "Amount lost": "Montant perdu",
    "(none)": "(aucune)",
    "(no outcome)": "(sans résultat)",
    "no answers this week": "aucune réponse cette semaine",
    "answer_note": (
        "Avec réponse : une réponse exploitable (un résultat, du commercial, d'un manager ou après "
        "vérification). Les réponses sans résultat, les précisions en attente et les réponses en "
        "vérification sont comptées à part, jamais comme des réponses."
    ),
    "low_note": f"† moins de {LOW_SAMPLE} réponses : trop peu pour lire un taux.",
}

_ES = {
    "Follow-up SLA: answers within {hours} business hours (requests sent this week)": (
        "SLA de seguimiento: respuestas en {hours} horas laborables como máximo "
        "(solicitudes enviadas esta semana)"
    ),
    "SLA by team": "SLA por equipo",
    "Figure": "Indicador",
    "Value": "Valor",
    "Team": "Equipo",
    "Requests sent": "Solicitudes enviadas",
    "Within SLA": "Dentro del SLA",
    "Median business hours": "Horas laborables (mediana)",
    "p90 business hours": "Horas laborables (p90)",
    "Median reminders": "Recordatorios (mediana)",
    "p90 reminders": "Recordatorios (p90)",
    "Escalated": "Escaladas",
    "Expired": "Vencidas",
    "Answered within the SLA": "Respondidas dentro del SLA",
    "Median business hours to answer": "Horas laborables hasta responder (mediana)",
    "p90 business hours to answer": "Horas laborables hasta responder (p90)",
    "Median reminders needed": "Recordatorios necesarios (mediana)",
    "p90 reminders needed": "Recordatorios necesarios (p90)",
    "Escalated to the manager": "Escaladas al responsable",
    "Expired unanswered": "Vencidas sin respuesta",
    "Leads handed to sales": "Leads entregados a ventas",
    "Leads answered": "Leads respondidos",
    "Leads: replied, no outcome": "Leads: respuesta sin resultado",
    "Leads: clarification asked": "Leads: aclaración pedida",
    "Leads: in review": "Leads: en revisión",
    "Leads accepted (of answered)": "Leads aceptados (de los respondidos)",
    "Median hours to answer": "Mediana de horas hasta responder",
    "Closed deals asked about": "Oportunidades cerradas consultadas",
    "Deals answered": "Oportunidades respondidas",
    "Deals: replied, no outcome": "Oportunidades: respuesta sin resultado",
    "Deals: clarification asked": "Oportunidades: aclaración pedida",
    "Deals: in review": "Oportunidades: en revisión",
    "Win rate (CRM)": "Tasa de cierre (CRM)",
    "CRM and rep disagree": "CRM y comercial no coinciden",
    "Leads by campaign": "Leads por campaña",
    "Why leads are accepted or not": "Por qué se aceptan o no los leads",
    "Why deals are won and lost": "Por qué se ganan y se pierden las oportunidades",
    "Competitors named": "Competidores mencionados",
    "Campaign": "Campaña",
    "Leads": "Leads",
    "Answered": "Respondidos",
    "Replied, no outcome": "Respuesta sin resultado",
    "Clarification asked": "Aclaración pedida",
    "In review": "En revisión",
    "Accepted": "Aceptados",
    "Outcome": "Resultado",
    "Reason": "Motivo",
    "Mentions": "Menciones",
    "Share of the outcome's answers": "Parte de las respuestas con este resultado",
    "Competitor": "Competidor",
    "Win rate against": "Tasa de cierre frente a él",
    "Amount lost": "Importe perdido",
    "(none)": "(ninguna)",
    "(no outcome)": "(sin resultado)",
    "no answers this week": "ninguna respuesta esta semana",
    "answer_note": (
        "Respondido: una respuesta útil (un resultado, del comercial, de un responsable o tras "
        "revisión). Las respuestas sin resultado, las aclaraciones pendientes y las respuestas en "
        "revisión se cuentan aparte, nunca como respondidas."
    ),
    "low_note": f"† menos de {LOW_SAMPLE} respuestas: demasiado pocas para leer una tasa.",
}

WORDS: dict[str, dict[str, str]] = {"de": _DE, "fr": _FR, "es": _ES}


def word(english: str, lang: str) -> str:
    """``english`` in ``lang``; the English itself where there is no translation."""
    return WORDS.get(lang, {}).get(english, english)
