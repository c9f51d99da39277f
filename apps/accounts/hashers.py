from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core.exceptions import ValidationError

# The longest password any way in accepts (the login page, the API), and so the longest one can
# set. Argon2 digests a password of any length first, so this is no security limit: it refuses
# absurd input before any hashing.
PASSWORD_MAX_LENGTH = 4096


class LongestPasswordValidator:
    """Refuse to set a password that no login would accept afterwards."""

    def validate(self, password, user=None):
        if len(password) > PASSWORD_MAX_LENGTH:
            raise ValidationError(
                f"This password is too long: at most {PASSWORD_MAX_LENGTH} characters.",
                code="password_too_long",
            )

    def get_help_text(self):
        return f"Your password can be at most {PASSWORD_MAX_LENGTH} characters long."


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id at Django's own cost: 100 MiB of memory, 2 passes, 8 lanes.

    That is five times the memory of OWASP's minimum (19 MiB, 2 passes, 1 lane), which the
    portal used at first. A guess costs an attacker with a stolen table what a verify costs us,
    so cheaper hashing is an equal discount for them. At the minimum a verify took 17 ms here,
    less than the rest of a login (its two requests, queries and events). At this cost it takes
    about 120 ms of wall time, the lanes sharing the cores; for comparison, on the same machine
    (2026-12-05), PBKDF2 took 219 ms at Django's default (SHA-256, 1,000,000 iterations) and
    116 ms at OWASP's figure for SHA-512 (210,000 iterations).

    The values are written out, not inherited, so that a Django upgrade that changes its
    defaults changes ours only through a reviewed change here. Hashes made with other
    parameters, the earlier 19 MiB ones included, are upgraded on the next successful login.
    """

    algorithm = "argon2"
    memory_cost = 100 * 1024
    time_cost = 2
    parallelism = 8

    def harden_runtime(self, password, encoded):
        """Spend on a wrong password for an older, cheaper hash what the current cost spends.

        Django calls this after a failed check of a hash made with other parameters. An unknown
        address is hashed at the current cost, so without it an account still on a cheaper hash
        answered a wrong password about 95 ms sooner, telling which addresses have accounts
        until their owners next log in. Argon2's time grows about with memory times passes, so
        the memory the stored hash did not spend is spent here at the current passes and lanes.
        """
        stored = self.decode(encoded)
        unspent = self.memory_cost * self.time_cost - stored["memory_cost"] * stored["time_cost"]
        memory = unspent // self.time_cost
        if memory < 8 * self.parallelism:  # Argon2's least memory for these lanes
            return
        argon2 = self._load_library()
        argon2.low_level.hash_secret(
            password.encode(),
            self.salt().encode(),
            time_cost=self.time_cost,
            memory_cost=memory,
            parallelism=self.parallelism,
            hash_len=self.params().hash_len,
            type=argon2.low_level.Type.ID,
        )
