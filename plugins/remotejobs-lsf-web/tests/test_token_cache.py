"""The on-disk token cache: private file, refused when others can read it, CLI-style reuse."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr
from remotejobs_lsf_web import LsfWebResource
from remotejobs_lsf_web._token_cache import CachedToken, TokenCache

from remotejobs.errors import AuthenticationError, ConfigurationError

Opener = Callable[..., LsfWebResource]


def test_file_is_private_and_holds_no_password(open_lsf_web: Opener, users: list[tuple[str, str]],
                                               tmp_path: Path) -> None:
    path = tmp_path / "state" / "tokens.json"
    resource = open_lsf_web(token_cache=str(path))
    resource.login(*users[0])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    text = path.read_text()
    assert users[0][0] in text and users[0][1] not in text
    resource.logout()
    assert users[0][0] not in path.read_text()


def test_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    cache = TokenCache(path)
    cache.put("https://x/ u", CachedToken("https://x/", SecretStr("tok-Zq9")))
    os.chmod(path, 0o644)
    with pytest.raises(ConfigurationError, match="accessible by other users") as err:
        cache.get("https://x/ u")
    assert "chmod 600" in str(err.value)
    os.chmod(path, 0o600)
    entry = cache.get("https://x/ u")
    assert entry is not None and entry.token.get_secret_value() == "tok-Zq9" and "Zq9" not in repr(entry)


def test_symlink_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    TokenCache(real).put("k u", CachedToken("https://x/", SecretStr("t")))
    link = tmp_path / "link.json"
    link.symlink_to(real)
    with pytest.raises(ConfigurationError, match="not a regular file"):
        TokenCache(link).get("k u")


def test_cli_style_login_lasts_across_resources(open_lsf_web: Opener, users: list[tuple[str, str]],
                                                tmp_path: Path) -> None:
    cache = str(tmp_path / "tokens.json")
    assert open_lsf_web(token_cache=cache).password_required()  # nothing cached yet
    with pytest.raises(AuthenticationError):
        open_lsf_web(token_cache=cache).login(users[1][0])
    first = open_lsf_web(token_cache=cache)
    first.login(*users[1])
    assert open_lsf_web(token_cache=cache).resume(users[1][0])  # a later CLI command
    later = open_lsf_web(token_cache=cache)
    assert later.password_required()  # a cached token is resumed, it is not a password
    later.login(users[1][0])  # no password: the cached token
    assert later.user == users[1][0] and isinstance(later.jobs(), list)
    with pytest.raises(AuthenticationError, match="no cached session"):
        open_lsf_web(token_cache=cache).login(users[0][0])  # a user without a cached token
