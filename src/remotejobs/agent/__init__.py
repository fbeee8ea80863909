"""The session agent: ``remotejobs agent``, like ssh-agent for remotejobs sessions.

The command line starts it on demand and then runs each operation in it, on sessions it
keeps logged in (warm SSH connections, web-service tokens), so consecutive commands pay
no new login or connection. It listens on a Unix socket (mode 0600, in a directory of
mode 0700 the user owns; see :func:`socket_path`), serves only its own user (peer uid
checked), never stores a password, and stops after an idle time (default 10 minutes,
``$REMOTEJOBS_AGENT_IDLE`` seconds). ``REMOTEJOBS_AGENT=0`` (or ``--no-agent``) makes
the command line work without it. The built-in ``local`` backend never uses it.
"""

from remotejobs.agent._client import DEFAULT_IDLE_TIMEOUT, AgentClient, AgentResource, agent_enabled, connect
from remotejobs.agent._paths import AgentError, agent_dir, private_dir, socket_path

__all__ = [
    "DEFAULT_IDLE_TIMEOUT",
    "AgentClient",
    "AgentError",
    "AgentResource",
    "agent_dir",
    "agent_enabled",
    "connect",
    "private_dir",
    "socket_path",
]
