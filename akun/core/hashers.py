from django.contrib.auth.hashers import Argon2PasswordHasher


class TunedArgon2PasswordHasher(Argon2PasswordHasher):
    """argon2id at OWASP's minimum (19 MiB, t=2, p=1): ~4x cheaper than Django's default here,
    still at the recommended floor. Django rehashes on sign-in when these change."""

    algorithm = "argon2"
    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1
