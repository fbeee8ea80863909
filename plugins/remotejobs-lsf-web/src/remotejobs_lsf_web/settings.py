"""Settings of the ``lsf-web`` backend and of its ``scarf`` preset."""

from __future__ import annotations

import os
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from remotejobs.resource import BackendSettings
from remotejobs_lsf_web._errors import DEFAULT_EXPIRED_PATTERN

__all__ = ["SCARF_PORTAL", "LsfWebSettings", "ScarfSettings"]

SCARF_PORTAL = "https://portal.scarf.rl.ac.uk"


class LsfWebSettings(BackendSettings):
    """How to reach one PAC web service (public sources of the formats: tests/pac_emulator/README.md).

    ``login_method``: ``pac-logon`` (standard ``webservice/pacclient/logon/``, needs
    ``base_url``) or ``token-script`` (SCARF's ``cgi-bin/token.py`` at ``token_url``, whose
    answer gives the PAC base URL). ``app_name`` is the PAC application submitted to;
    ``tool_apps`` maps a ``--tool <name>``/``--tool=<name>`` argument to another application
    (SCARF's astra rule). Applications named in ``command_apps`` (default: PAC's ``generic``)
    receive the command line as ``COMMANDTORUN`` (IBM's clients); the others ``INPUT_FILE`` +
    ``INPUT_ARGS`` (Mantid, SCARF). ``app_params`` are extra AppParams sent with every submission.
    ``download_body``: what a ``file/<id>`` request names, the job-files listing entry
    (``entry``, as Mantid and SCARF's clients send) or its base name (``basename``, as IBM's
    current clients send). ``download_format``: ``auto`` reads a MIME multipart answer
    (newer PAC) by its boundary and Content-ID and anything else as the raw file; ``raw`` and
    ``multipart`` force one reading.
    ``token_cache`` (a file path) keeps tokens across processes (mode 0600; never passwords).
    ``keyring_service`` names a keyring entry (``pip install remotejobs-lsf-web[keyring]``)
    used to log in again when the server drops the session.
    """

    #: The PAC base URL (``https://host:8443/platform/``); needed with ``login_method =
    #: 'pac-logon'``.
    base_url: str | None = None
    #: ``pac-logon`` (PAC's ``webservice/pacclient/logon/``) or ``token-script`` (SCARF's
    #: ``cgi-bin/token.py`` at ``token_url``, whose answer gives the base URL).
    login_method: Literal["pac-logon", "token-script"] = "pac-logon"
    #: The token script's URL (``token-script`` login).
    token_url: str | None = None
    #: Text the token script's answer must start with (the expected portal), so a wrong server
    #: is refused.
    login_marker: str | None = None
    #: URL that ``ping()`` asks; default ``base_url``.
    ping_url: str | None = None
    #: Default user when ``login()`` names none.
    username: str | None = None
    #: The PAC application jobs are submitted to.
    app_name: str = Field(default="generic", min_length=1)
    #: Applications that receive the command line as ``COMMANDTORUN`` (IBM's clients); the
    #: others get ``INPUT_FILE`` + ``INPUT_ARGS`` (Mantid, SCARF).
    command_apps: frozenset[str] = frozenset({"generic"})
    #: For ``command_apps``: ``JobSpec.executable`` is a local file (a script) sent with the
    #: submission as the uploaded ``INPUT_FILE``, which PAC stores in the job's directory,
    #: and run from there (IBM's lsf-faas sends its script so); at most 500 MB, as lsf-faas.
    upload_executable: bool = False
    #: Maps a ``--tool <name>`` argument to another application (SCARF's astra rule).
    tool_apps: dict[str, str] = Field(default_factory=dict)
    #: Extra AppParams sent with every submission.
    app_params: dict[str, str] = Field(default_factory=dict)
    #: What a ``file/<id>`` request names: the job-files listing ``entry`` (Mantid, SCARF) or
    #: its ``basename`` (IBM's current clients).
    download_body: Literal["entry", "basename"] = "entry"
    #: ``auto`` reads a MIME multipart answer (newer PAC) by boundary and Content-ID and
    #: anything else as the raw file; ``raw``/``multipart`` force one.
    download_format: Literal["auto", "raw", "multipart"] = "auto"
    #: A CA bundle file to verify the server's TLS certificate with (TLS is always verified).
    ca_bundle: str | None = None
    #: Seconds to wait for a connection.
    connect_timeout: float = Field(default=10.0, gt=0, allow_inf_nan=False)
    #: Seconds to wait for an answer.
    read_timeout: float = Field(default=60.0, gt=0, allow_inf_nan=False)
    #: How often an idempotent request is retried after a transient failure.
    retries: int = Field(default=2, ge=0, le=5)
    #: A file that keeps session tokens across processes (mode 0600; never passwords).
    token_cache: str | None = None
    #: A keyring entry used to log in again when the server drops the session.
    keyring_service: str | None = None
    #: Regular expression for the server's texts that mean the session has expired.
    expired_pattern: str = DEFAULT_EXPIRED_PATTERN

    @field_validator("base_url", "ping_url")
    @classmethod
    def _trailing_slash(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("ca_bundle")
    @classmethod
    def _ca_bundle_exists(cls, value: str | None) -> str | None:
        if value is not None and not os.path.isfile(os.path.expanduser(value)):
            raise ValueError(f"the CA certificate file {value!r} does not exist")
        return os.path.expanduser(value) if value is not None else None

    @field_validator("token_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("expired_pattern")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _login_endpoint(self) -> LsfWebSettings:
        if self.login_method == "pac-logon" and not self.base_url:
            raise ValueError("login_method 'pac-logon' needs base_url (e.g. https://host:8443/platform/)")
        if self.login_method == "token-script" and not self.token_url:
            raise ValueError("login_method 'token-script' needs token_url")
        return self

    @property
    def login_endpoint(self) -> str:
        """The URL that identifies this service in the token cache."""
        return str(self.token_url if self.login_method == "token-script" else self.base_url)


class ScarfSettings(LsfWebSettings):
    """The SCARF (STFC/RAL) preset: token script login, Mantid's application rule."""

    login_method: Literal["pac-logon", "token-script"] = "token-script"
    token_url: str | None = f"{SCARF_PORTAL}/cgi-bin/token.py"
    login_marker: str | None = SCARF_PORTAL
    ping_url: str | None = f"{SCARF_PORTAL}:8443/platform/"
    app_name: str = Field(default="TOMOPY_0_1_9", min_length=1)
    tool_apps: dict[str, str] = Field(default_factory=lambda: {"astra": "PYASTRATOOLBOX_1_6"})
