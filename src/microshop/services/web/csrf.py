"""Cross-site request forgery protection: a signed double-submit token (OWASP's
"signed double-submit cookie").

Every visitor gets a random value in an HttpOnly cookie; every form carries
HMAC(key, that value) in a hidden field. A post is accepted only when the field
matches the cookie it came with: another site can make the browser send the
cookie, but it can neither read it nor compute its signature without the key.
The key is derived from the services' shared key, so every web replica accepts
every other's forms, and nothing is stored on the server.

Two more layers sit under it: the cookies are SameSite=Lax (a cross-site post
carries none of them), and a post the browser marks as cross-site
(Sec-Fetch-Site) is refused before its form is read.
"""

import hashlib
import hmac
import secrets

COOKIE = "microshop_csrf"
FIELD = "csrf_token"
_LABEL = b"microshop web csrf v1"


class CsrfGuard:
    def __init__(self, service_key: bytes) -> None:
        # Not the service key itself: a token must never be usable as a service credential.
        self._key = hmac.new(service_key, _LABEL, hashlib.sha256).digest()

    @staticmethod
    def new_secret() -> str:
        return secrets.token_urlsafe(32)

    def token_for(self, secret: str) -> str:
        return hmac.new(self._key, secret.encode(), hashlib.sha256).hexdigest()

    def accepts(self, secret: str | None, token: str | None) -> bool:
        if not secret or not token or len(secret) > 100 or len(token) > 100:
            return False
        return hmac.compare_digest(self.token_for(secret), token)
