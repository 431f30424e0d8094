"""Call transcripts, rebuilt on demand from (seed, call id), so nothing is stored per call.

Each answered call has a topic (a refund, moving an appointment to Thursday, prices, …) in
its agent's language, so that searching the transcripts finds something to read: callers
of the support line sometimes switch to Spanish, Amélie speaks French, Kenji Japanese.
"""

from __future__ import annotations

import random
from typing import Any

from zazacli.sandbox.compliance import weave
from zazacli.sandbox.data import CallRecord, fill, iso

_DEFAULT_NAME = {"en": "there", "es": "there", "fr": "madame, monsieur", "ja": "お客"}
_CALLER_LINES = {
    "en": (
        "Oh hi, yes.",
        "Who is this?",
        "Sure, go ahead.",
        "Sorry, can you repeat that?",
        "Hmm, okay.",
        "That sounds good 👍",
        "I'm driving, so please keep it short.",
        "Yes, that's me.",
        "Right, I remember getting an email about that.",
        "Perfect, merci!",
    ),
    "es": (
        "Sí, dígame.",
        "Perdón, ¿puede repetirlo?",
        "Vale, entendido.",
        "Muy bien 👍",
    ),
    "fr": (
        "Ça va bien, merci.",
        "Oui, je vous écoute.",
        "Pardon, vous pouvez répéter ?",
        "D'accord.",
        "C'est à quel sujet ?",
        "Très bien 🙂",
    ),
    "ja": (
        "はい、そうです。",
        "日本語で大丈夫です。",
        "少々お待ちください。",
        "なるほど。",
        "ええ、分かりました。",
    ),
}
_AGENT_LINES = {
    "en": (
        "I'm calling about your account with Acme.",
        "Is now a good time for a quick chat?",
        "Great. It will only take a minute.",
        "I understand completely.",
        "Let me check that for you.",
        "Thanks for your patience.",
    ),
    "es": (
        "Un momento, lo compruebo.",
        "Gracias por su paciencia.",
        "Entiendo perfectamente.",
    ),
    "fr": (
        "Je vous appelle au sujet de votre contrat.",
        "Très bien, merci beaucoup.",
        "Je comprends tout à fait.",
        "Je vérifie cela pour vous.",
    ),
    "ja": (
        "ご契約の件でお電話しました。",
        "ありがとうございます。",
        "確認いたします。",
        "お時間は取らせません。",
    ),
}
_CONFIRM = {
    "en": "Just to confirm, your {label} is {value}.",
    "es": "Para confirmar: su {label} es {value}.",
    "fr": "Pour confirmer : {label}, {value}.",
    "ja": "確認ですが、{label}は{value}ですね。",
}
_SPANISH_SWITCH = (
    ("CALLER", "Hola, perdone, ¿habla usted español?"),
    ("AGENT", "¡Claro que sí! Seguimos en español. ¿En qué puedo ayudarle?"),
)

Exchange = tuple[tuple[str, str], ...]

# What a call is about, by language and direction (inbound: the support line; outbound:
# sales and renewals). Each topic has a few ways it goes; the first two turns stand alone.
_TOPICS: dict[tuple[str, str], dict[str, tuple[Exchange, ...]]] = {
    ("en", "INBOUND"): {
        "refund": (
            (
                ("CALLER", "I was charged twice last month and I'd like a refund."),
                (
                    "AGENT",
                    "I'm sorry about that. I've issued a refund for the duplicate charge; "
                    "it takes five to seven business days.",
                ),
                ("CALLER", "Will the refund go back to my card?"),
                ("AGENT", "Yes, to the same card you paid with."),
            ),
            (
                ("CALLER", "Can I get a refund for the months I didn't use?"),
                ("AGENT", "Unused months are refunded to your card within a week."),
            ),
        ),
        "reschedule": (
            (
                ("CALLER", "I need to reschedule my appointment. Is Thursday possible?"),
                ("AGENT", "Thursday works. I've moved you to Thursday at 3 pm."),
            ),
            (
                ("CALLER", "Could we move the installation to Thursday morning instead?"),
                ("AGENT", "Done: Thursday morning, between 9 and 11."),
                ("CALLER", "Great, Thursday morning is much better for me."),
                ("AGENT", "You'll get a text the day before."),
            ),
        ),
        "pricing": (
            (
                ("CALLER", "How much is the Pro plan per month?"),
                ("AGENT", "The Pro plan is $49 a month, or $490 if you pay yearly."),
            ),
            (
                ("CALLER", "Is there a discount if I pay for the whole year?"),
                ("AGENT", "Yes: paying yearly saves you two months, so the price is $490."),
            ),
        ),
        "cancel": (
            (
                ("CALLER", "I'd like to cancel my subscription."),
                ("AGENT", "I can help with that. May I ask why you're cancelling?"),
                ("CALLER", "It's too expensive for what I use."),
                ("AGENT", "I understand. Your plan stays active until the end of the month."),
            ),
        ),
        "delivery": (
            (
                ("CALLER", "My order still hasn't arrived."),
                ("AGENT", "I see it's out for delivery and should arrive tomorrow."),
            ),
        ),
    },
    ("en", "OUTBOUND"): {
        "renewal": (
            (
                ("AGENT", "Your contract renews at the end of the month."),
                ("CALLER", "Will the price go up?"),
                ("AGENT", "No, the price stays the same if you renew before Friday."),
            ),
        ),
        "upgrade": (
            (
                ("AGENT", "Our Pro plan now includes unlimited minutes."),
                ("CALLER", "Can you tell me how much it costs?"),
                ("AGENT", "It's $49 a month, and the first month is free."),
            ),
        ),
        "appointment": (
            (
                ("AGENT", "We'd like to book your annual review. Would Thursday work?"),
                ("CALLER", "Thursday is difficult. Could we do Friday instead?"),
            ),
            (
                ("AGENT", "Can I offer you a slot on Thursday afternoon?"),
                ("CALLER", "Thursday afternoon could work, let me check my calendar."),
            ),
        ),
        "webinar": (
            (
                ("AGENT", "You joined our webinar last week. Did you have any questions?"),
                ("CALLER", "Yes: does it integrate with Salesforce?"),
                ("AGENT", "It does, and the setup takes about ten minutes."),
            ),
        ),
    },
    ("es", "INBOUND"): {
        "refund": (
            (
                ("CALLER", "Me cobraron dos veces y quisiera un reembolso."),
                (
                    "AGENT",
                    "Lo siento mucho. El reembolso del cargo duplicado tardará de cinco "
                    "a siete días.",
                ),
            ),
        ),
        "reschedule": (
            (
                ("CALLER", "¿Podemos cambiar la cita al jueves?"),
                ("AGENT", "Sí, la cita queda para el jueves a las tres de la tarde."),
            ),
        ),
        "pricing": (
            (
                ("CALLER", "¿Cuánto cuesta el plan Pro?"),
                (
                    "AGENT",
                    "El plan Pro cuesta 49 dólares al mes; el pago anual sale más económico.",
                ),
            ),
        ),
    },
    ("fr", "*"): {
        "refund": (
            (
                ("CALLER", "J'ai été débité deux fois, je voudrais être remboursé."),
                ("AGENT", "Je suis désolée. Le remboursement sera effectué sous cinq jours."),
            ),
        ),
        "reschedule": (
            (
                ("CALLER", "Est-ce qu'on peut déplacer le rendez-vous à jeudi ?"),
                ("AGENT", "C'est noté : jeudi à quinze heures."),
            ),
        ),
        "pricing": (
            (
                ("CALLER", "Quel est le prix de l'offre Pro ?"),
                ("AGENT", "L'offre Pro coûte 49 € par mois, ou 490 € par an."),
            ),
        ),
    },
    ("ja", "*"): {
        "refund": (
            (
                ("CALLER", "先月の請求が二重になっているので、返金をお願いします。"),
                ("AGENT", "申し訳ございません。返金の手続きをいたしました。"),
            ),
        ),
        "reschedule": (
            (
                ("CALLER", "予約を木曜日に変更したいです。"),
                ("AGENT", "かしこまりました。木曜日の午後三時に変更しました。"),
            ),
        ),
        "pricing": (
            (
                ("CALLER", "プロプランの料金はいくらですか？"),
                ("AGENT", "プロプランは月額4,900円です。"),
            ),
        ),
    },
}
_CLOSINGS_EN = {
    "INTERESTED": (
        "Yes, that sounds interesting. Tell me more.",
        "Wonderful! I'll email you the details. Have a great day, {NAME}.",
    ),
    "NOT_INTERESTED": (
        "No thanks, I'm not interested.",
        "No problem at all. Thanks for your time, {NAME}.",
    ),
    "CALLBACK_REQUESTED": (
        "Can you call me back tomorrow afternoon?",
        "Of course, I'll call you back tomorrow afternoon.",
    ),
    "APPOINTMENT_BOOKED": (
        "Thursday at 10 works for me.",
        "You're booked for Thursday at 10:00. See you then!",
    ),
    "DO_NOT_CALL": (
        "Please take me off your list.",
        "Understood. I've removed your number; you won't be called again.",
    ),
    "RESOLVED": ("Great, that fixed it. Thanks!", "Glad I could help. Goodbye, {NAME}!"),
}
_CLOSINGS = {
    "es": ("Gracias, adiós.", "Gracias a usted, {NAME}. ¡Que tenga un buen día!"),
    "fr": ("Merci, au revoir.", "Merci à vous, {NAME}. Bonne journée !"),
    "ja": ("ありがとうございました。", "失礼いたします。"),
}
_BOOKED = {
    "es": ("El jueves a las diez me va bien.", "Queda reservado: jueves a las 10:00."),
    "fr": ("Jeudi à 10 heures, c'est parfait.", "C'est réservé : jeudi à 10 h. À bientôt !"),
    "ja": ("木曜日の10時でお願いします。", "木曜日の10時でご予約を承りました。"),
}
_VOICEMAIL_GREETING = {
    "en": "Hi, you've reached {NAME}. Leave a message after the tone.",
    "es": "Hola, ha llamado a {NAME}. Deje su mensaje después de la señal.",
    "fr": "Bonjour, vous êtes bien chez {NAME}. Laissez un message après le bip.",
    "ja": "ただいま電話に出ることができません。発信音の後にメッセージをどうぞ。",
}
MAX_TURNS = 12
SPANISH_SHARE = 0.25  # of the support line's (agent 14) inbound calls


def _topic(rng: random.Random, lang: str, direction: str) -> list[tuple[str, str]]:
    topics = (
        _TOPICS.get((lang, direction)) or _TOPICS.get((lang, "*")) or _TOPICS[("en", "OUTBOUND")]
    )
    ways = topics[sorted(topics)[rng.randrange(len(topics))]]
    return list(ways[rng.randrange(len(ways))])


def _closing(lang: str, disposition: str, named: bool) -> list[tuple[str, str]]:
    if lang == "en":
        caller, agent = _CLOSINGS_EN.get(disposition, _CLOSINGS_EN["INTERESTED"])
    elif disposition == "APPOINTMENT_BOOKED":
        caller, agent = _BOOKED[lang]
    else:
        caller, agent = _CLOSINGS[lang]
    if not named:  # "Have a great day." rather than "…, there."
        agent = agent.replace(", {NAME}", "")
    turns = [("CALLER", caller), ("AGENT", agent)]
    if disposition == "APPOINTMENT_BOOKED":
        turns.insert(1, ("TOOL", "calendar.book(slot=Thursday 10:00) -> confirmed"))
    return turns


def _script(
    rng: random.Random,
    lang: str,
    call: CallRecord,
    agent: dict[str, Any],
    review: random.Random,
) -> list[tuple[str, str]]:
    variables = call.variables
    name = variables.get("NAME") or _DEFAULT_NAME[lang]
    disposition = call.outcome.disposition or "INTERESTED"
    greeting = fill(str(agent.get("greetingMessage") or "Hello {{NAME}}."), variables, name)
    if disposition == "VOICEMAIL":
        return [
            ("CALLER", _VOICEMAIL_GREETING[lang].format(NAME=name)),
            ("SYSTEM", "Voicemail detected; leaving a message."),
            (
                "AGENT",
                f"{greeting} Sorry we missed you; please call us back at {call.from_number}.",
            ),
            ("SYSTEM", "Message left (voicemail)."),
        ]
    opening: list[tuple[str, str]] = []
    if rng.random() < 0.15:
        opening.append(("SYSTEM", "Recording disclosure played: this call may be recorded."))
    opening.append(("AGENT", greeting))
    if lang == "es":
        opening.extend(_SPANISH_SWITCH)
    topic = _topic(rng, lang, call.direction)
    callers, agents_lines = _CALLER_LINES[lang], _AGENT_LINES[lang]
    confirms: list[tuple[str, str]] = []
    for key, value in variables.items():
        if key != "NAME":
            label = key.lower().replace("_", " ")
            confirms.append(("CALLER", callers[rng.randrange(len(callers))]))
            confirms.append(("AGENT", _CONFIRM[lang].format(label=label, value=value)))
    if not confirms and rng.random() < 0.5:
        confirms.append(("CALLER", callers[rng.randrange(len(callers))]))
        confirms.append(("AGENT", agents_lines[rng.randrange(len(agents_lines))]))
    closing = _closing(lang, disposition, bool(variables.get("NAME")))
    closing = [(role, text.format(NAME=name)) for role, text in closing]
    # What a transcript review looks for (compliance.py), from the call's own generator.
    woven = weave(review, lang, disposition, opening, closing)
    if len(opening) + len(topic) + len(woven) + len(confirms) + len(closing) > MAX_TURNS:
        topic = topic[:2]  # the question and its answer
    while (
        confirms
        and len(opening) + len(topic) + len(woven) + len(confirms) + len(closing) > MAX_TURNS
    ):
        del confirms[-2:]
    return opening + topic + woven + confirms + closing


def transcript(
    call: CallRecord, agent: dict[str, Any] | None, seed: int, t: float
) -> list[dict[str, str]]:
    """The turns spoken by time `t`: rebuilt from (seed, id), so nothing is stored per call."""
    if call.answer_at is None or t < call.answer_at:
        return []
    rng = random.Random(f"{seed}:{call.id}")
    agent = agent or {}
    lang = str(agent.get("language") or "en")[:2]
    lang = lang if lang in _DEFAULT_NAME else "en"
    if lang == "en" and call.direction == "INBOUND" and call.agent_id == 14:
        lang = "es" if rng.random() < SPANISH_SHARE else lang
    lines = _script(rng, lang, call, agent, random.Random(f"{seed}:{call.id}:review"))
    span = call.end_at - call.answer_at
    step = span / len(lines)
    turns = []
    for i, (role, text) in enumerate(lines):
        at = call.answer_at + step * i
        if at > t:
            break
        turns.append({"role": role, "text": text, "timestamp": iso(at)})
    return turns
