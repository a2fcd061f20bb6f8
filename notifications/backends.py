"""Email backends that pass our per-row idempotency key to providers that deduplicate on it.

anymail's Resend backend has no setting for HTTP request headers (`esp_extra` goes into the JSON body), and Resend
reads the key from the `Idempotency-Key` HTTP header: this subclass adds it. Everything else is anymail's.
Use it as EMAIL_BACKEND=notifications.backends.ResendEmailBackend with ANYMAIL_RESEND_API_KEY.
"""

from anymail.backends.resend import EmailBackend as AnymailResendBackend


class ResendEmailBackend(AnymailResendBackend):
    def build_message_payload(self, message, defaults):
        payload = super().build_message_payload(message, defaults)
        key = getattr(message, "caseapp_idempotency_key", None)
        if key:
            payload.headers["Idempotency-Key"] = key
        return payload
