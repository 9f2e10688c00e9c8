"""Linear with a hand-written check, the same as provider.py's declared one, for comparison."""
from __future__ import annotations

from hub import AuthMethod, Provider, VerificationResult, retry_after
from linear.provider import ApiKey, LinearConfig

BAD_KEY = "Linear does not accept this API key: check that it is whole and not revoked."
RATE_LIMITED = "Linear is rate limiting this API key: try again later."


def verify(auth_type, credentials, config, http):
    response = http.request("POST", config["api_base_url"].rstrip("/") + "/graphql",
                            headers={"Authorization": credentials["api_key"]},
                            json={"query": "{ viewer { id name email } }"})
    try:
        answer = response.json()
    except ValueError:  # an HTML page, a truncated body
        answer = None
    codes = set()
    if isinstance(answer, dict) and isinstance(answer.get("errors"), list):
        codes = {(error.get("extensions") or {}).get("code") for error in answer["errors"]
                 if isinstance(error, dict) and isinstance(error.get("extensions"), dict)}
    if "AUTHENTICATION_ERROR" in codes:
        return VerificationResult.failure("invalid_credentials", BAD_KEY)
    if "RATELIMITED" in codes or response.status == 429:
        reset = response.headers.get("x-ratelimit-requests-reset")
        wait = retry_after({"x-ratelimit-reset": reset}) if reset else None
        return VerificationResult.failure("rate_limited", RATE_LIMITED,
                                          retry_after=wait if wait is not None
                                          else retry_after(response.headers))
    if response.status == 200:
        viewer = ((answer or {}).get("data") or {}).get("viewer") \
            if isinstance(answer, dict) else None
        if not isinstance(viewer, dict) or not viewer.get("id"):
            return VerificationResult.failure(
                "provider_error", "The answer to POST /graphql is not what the Linear API "
                                  "answers: check api_base_url, and that no login page stands "
                                  "in front of the API.")
        return VerificationResult.success(identity={
            key: viewer.get(key)[:256] if isinstance(viewer.get(key), str) else viewer.get(key)
            for key in ("id", "name", "email")})
    if 300 <= response.status < 400:
        return VerificationResult.failure(
            "provider_error", f"Linear answered POST /graphql with a redirect (HTTP "
                              f"{response.status}), which the hub does not follow; check "
                              "api_base_url.")
    if response.status >= 500:
        return VerificationResult.failure(
            "provider_error", f"Linear answered POST /graphql with a server error (HTTP "
                              f"{response.status}); try again later.")
    if response.status == 401:
        return VerificationResult.failure("invalid_credentials", BAD_KEY)
    return VerificationResult.failure(
        "provider_error", f"Linear answered POST /graphql with HTTP {response.status}; check "
                          "api_base_url.")


PROVIDER = Provider(name="linear", display_name="Linear", description="Linear, as a user.",
                    version="1.0.0", config_schema=LinearConfig, verify=verify,
                    auth_methods=(AuthMethod("api_key", "API key", ApiKey),))
