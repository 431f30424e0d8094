"""What a transcript review (`zaza calls review`) looks for, woven into the seeded calls.

Most agents say the recording disclosure right after their greeting (in the call's
language: the built-in rule reads English only); some calls lack it. Some callers ask not
to be called again, in English, Spanish or French: most agents say goodbye, some keep
talking. Some agents (and callers) say what a compliance team forbids ("guaranteed
approval", "risk-free", "crédit garanti"), with the accents and punctuation a transcript
has. Each call draws from a generator of its own (seed and id), so the rest of every
transcript is what it was before these were added, and the same seed gives the same calls.
"""

from __future__ import annotations

import random

Turns = list[tuple[str, str]]

DISCLOSED_SHARE = 0.9
_DISCLOSURES = {
    "en": (
        "This call may be recorded for quality and training.",
        "Just so you know, this call is recorded.",
        "Quick note: this call is… recorded, for training purposes.",
        "Before we go on — this call MAY be recorded.",
    ),
    "fr": ("Cet appel peut être enregistré.", "Je vous informe que cet appel est enregistré."),
    "ja": ("この通話は録音されることがあります。",),
}
# A caller's request not to be called again, and the agent's goodbye: honoured.
HONOURED = {
    "en": (
        (
            "Please take me off your list.",
            "Understood. I've removed your number; you won't be called again.",
        ),
        ("Stop calling me. I mean it.", "Understood, you won't hear from us again. Goodbye."),
        ("STOP!", "Sorry to have bothered you. Goodbye."),
        ("Don't call me again, please.", "Of course, I've noted it. Goodbye."),
    ),
    "es": (
        ("No me llamen más, por favor. Adiós.", "Entendido, no volveremos a llamarle. ¡Adiós!"),
    ),
    "fr": (
        ("Ne m'appelez plus, s'il vous plaît.", "Très bien, je retire votre numéro. Au revoir."),
    ),
}
# A request the agent talks past: more turns after it than a goodbye.
KEPT_TALKING = {
    "en": (
        (
            ("CALLER", "Please don't call me again."),
            ("AGENT", "I hear you, but this offer ends on Friday."),
            ("CALLER", "I said stop."),
            ("AGENT", "It only takes a minute, I promise."),
            ("AGENT", "Can I at least email you the details?"),
        ),
        (
            ("CALLER", "Take my number off your calling list."),
            ("AGENT", "Of course. Before you go: the Pro plan is only $49."),
            ("AGENT", "It really is a great deal."),
        ),
    ),
    "es": (
        (
            ("CALLER", "Dejen de llamarme, por favor."),
            ("AGENT", "Lo entiendo, pero la oferta termina el viernes."),
            ("AGENT", "¿Le envío los detalles por correo?"),
        ),
    ),
    "fr": (
        (
            ("CALLER", "Ne me rappelez plus !"),
            ("AGENT", "Mais attendez, notre offre se termine vendredi !"),
            ("AGENT", "Vous ne voulez vraiment pas en profiter ?"),
        ),
    ),
}
# Promises a compliance team forbids, said by the agent or (quoted back) by the caller.
FORBIDDEN = {
    "en": (
        ("AGENT", "And it's guaranteed approval, completely risk-free."),
        ("AGENT", "Guaranteed   approval — RISK FREE, no questions asked!"),
        ("CALLER", "A friend said you offer guaranteed approval. Is it really risk free?"),
    ),
    "fr": (
        ("AGENT", "C'est un crédit garanti, sans aucun risque."),
        ("AGENT", "Un crédit… garanti ! Et sans frais."),
        ("CALLER", "Un CREDIT GARANTI, vraiment ?"),
    ),
}
_ANSWER_TO_CALLER = {
    "en": "I can't promise that, but let me check.",
    "fr": "Je ne peux rien promettre.",
}


def weave(rng: random.Random, lang: str, disposition: str, opening: Turns, closing: Turns) -> Turns:
    """Changes an answered call's script in place (`opening` ends with the greeting, or the
    switch to Spanish after it; `closing` is its last turns) and returns what is said
    after the call's subject; `rng` is the call's own."""
    disclosure = _DISCLOSURES.get("en" if lang == "es" else lang)
    if disclosure and rng.random() < DISCLOSED_SHARE:
        greeting = max(i for i, (role, _) in enumerate(opening[:2]) if role == "AGENT")
        opening.insert(greeting + 1, ("AGENT", disclosure[rng.randrange(len(disclosure))]))
    woven: Turns = []
    said = FORBIDDEN.get(lang)
    if said and rng.random() < (0.15 if lang == "fr" else 0.05):
        role, text = said[rng.randrange(len(said))]
        woven.append((role, text))
        if role == "CALLER":
            woven.append(("AGENT", _ANSWER_TO_CALLER[lang]))
    # Who asks not to be called again: whoever the disposition says did, some of those not
    # interested, and some callers of the support line (more of the Spanish-speaking ones).
    share = {"DO_NOT_CALL": 1.0, "NOT_INTERESTED": 0.3}.get(disposition, 0.0)
    if disposition == "RESOLVED":
        share = 0.25 if lang == "es" else 0.04
    if lang in HONOURED and rng.random() < share:
        closing[:] = _opt_out(rng, lang)
    return woven


def _opt_out(rng: random.Random, lang: str) -> Turns:
    """The call's last turns: a request not to be called again, honoured (two in three) or
    talked past."""
    if rng.random() < 2 / 3:
        caller, agent = HONOURED[lang][rng.randrange(len(HONOURED[lang]))]
        return [("CALLER", caller), ("AGENT", agent)]
    kept = KEPT_TALKING[lang]
    return list(kept[rng.randrange(len(kept))])
