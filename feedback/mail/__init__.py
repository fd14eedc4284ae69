"""Reading a reply the way a person would: pure functions, bytes in, ``ParsedMessage`` out.

Owned by the reply-parsing work (issue 3). ``parse_message`` never raises: input that is not a
message at all yields ``classification == "unreadable"`` with ``error`` set.
"""

from feedback.mail.learned_signature import LearnedSignature
from feedback.mail.parse import parse_message, with_learned_signature
from feedback.mail.parsed import Bounce, Classification, ParsedMessage

__all__ = [
    "Bounce",
    "Classification",
    "LearnedSignature",
    "ParsedMessage",
    "parse_message",
    "with_learned_signature",
]
