"""Contacts shown masked, enough to recognise one's own: b***@gmail.com, 0812****890."""


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    if not domain:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str) -> str:
    digits = "".join(c for c in phone if c.isdigit() or c == "+")
    if len(digits) < 8:
        return "****"
    return f"{digits[:4]}****{digits[-3:]}"


def normalize_phone(phone: str) -> str:
    """Indonesian mobile numbers as 08…; +62/62 prefixes folded."""
    digits = "".join(c for c in phone if c.isdigit())
    if digits.startswith("62"):
        digits = "0" + digits[2:]
    return digits
