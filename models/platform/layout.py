"""Column indices of the platform engine's flat state arrays and its vocabularies.

The event kernel (:mod:`models.platform.kernel`) keeps its state in a few 2-D int64 and
float64 arrays; these constants name their columns, so that the kernel, its Python twin
and :class:`models.platform.engine.Engine` agree on one layout.
"""

from __future__ import annotations

__all__ = [
    "CHANNELS",
    "OUTCOMES",
    "TRANSFERS",
]

CHANNELS = ("voice", "text", "outbound")
"""Kinds of session: inbound calls, inbound text sessions, agents' outbound calls."""
VOICE, TEXT, OUTBOUND = 0, 1, 2

OUTCOMES = (
    "answered",
    "abandoned",
    "blocked",
    "no_ports",
    "refused",
    "closed",
    "expired",
    "failed",
    "no_answer",
)
"""How an attempt ended: answered (outbound: connected), abandoned while waiting, blocked
(no trunk the policy lets it take), no_ports (no media ports), refused (by the isolation
policy's rate or wait limit), closed (outside business hours), expired (an outbound task
not dialled in time), failed (no carrier took the outbound call), no_answer (outbound, the
callee did not answer)."""
ANSWERED, ABANDONED, BLOCKED, NO_PORTS, REFUSED, CLOSED, EXPIRED, FAILED, NO_ANSWER = range(9)

TRANSFERS = ("none", "blind", "warm", "warm_as_blind")
"""Transfer of a call: none, blind, warm (a consultation between the agents), or a warm
transfer done blind because the media server had no ports for the consultation."""
NO_XFER, BLIND, WARM, WARM_AS_BLIND = range(4)

# -- sessions as handed in (one row each, in arrival order) ---------------------------------
F_T, F_HANDLE, F_WRAP, F_HANDLE2, F_CONSULT, F_IVR, F_RING, F_ANSWER_U, F_ROUTE_U = range(9)
F_PAT = 9
"""First of ``max_attempts`` patience columns (s; inf: never abandons); the retry delays
(s; inf: no retry) follow them."""
I_TENANT, I_QUEUE, I_CHANNEL, I_CUSTOMER, I_XFER, I_XQUEUE, I_NUMBER, I_SESSION = range(8)
N_IN_I = 8


def n_in_f(max_attempts: int) -> int:
    """Float columns of a session row for ``max_attempts`` attempts."""
    return F_PAT + 2 * max_attempts


# -- a slot: a session in the system (its state columns first, then its input row) -------
(
    S_ARRIVE,
    S_ENQ,
    S_ANSWER,
    S_PORT_T,
    S_PORTSEC,
    S_EXTRA,
    S_SERVED,
    S_WAIT,
    S_BILLED,
    S_SERVED2,
) = range(10)
"""Float state columns: attempt arrival, queue entry (the transfer's for a transferred
call), answer, last change of ports held, port-seconds so far, post-dial delay
(outbound), talk seconds with the first agent, wait before the first answer, billed
seconds (outbound), talk seconds with the second agent (after a transfer)."""
N_SLOT_F = 10
(
    S_STATE,
    S_ATTEMPT,
    S_EPOCH,
    S_AGENT,
    S_AGENT2,
    S_PREV,
    S_NEXT,
    S_CURQ,
    S_TRUNK,
    S_PORTS,
    S_PORTS_MAX,
    S_LEGS,
    S_LEGS_MAX,
    S_CARRIER,
    S_XDONE,
    S_FREE_TRUNKS,
    S_OUTCOME,
    S_QUEUED,
    S_FAILOVERS,
) = range(19)
N_SLOT_I = 19
SF, SI = N_SLOT_F, N_SLOT_I
"""Offsets of a session's input columns in its slot (``slot_f[s, SF + F_HANDLE]``)."""
# slot states
FREE, IVR, WAITING, TALK1, TEXTING, DIALLING, XWAIT, CONSULT, TALK2, RETRY = range(10)

# -- agents -----------------------------------------------------------------------------------
A_TENANT, A_GROUP, A_RANK, A_PRIMARY, A_MASK, A_ON, A_LEAVING, A_SLOT, A_TEXTS, A_CAP = range(10)
N_AG_I = 10
A_IDLE, A_START, A_TEXT_T = range(3)
"""Since when the agent is idle; when its current voice work began; last change of its
text count (for busy time)."""
N_AG_F = 3
WRAPPING = -2
"""``A_SLOT`` of an agent in wrap-up."""

# -- queues (one per tenant, skill and channel) ---------------------------------------------
Q_TENANT, Q_SKILL, Q_CHANNEL, Q_PRIO, Q_HEAD, Q_TAIL, Q_LEN = range(7)
N_Q_I = 7

# -- tenants --------------------------------------------------------------------------------
(
    T_A0,
    T_A1,
    T_Q0,
    T_Q1,
    T_TRUNKS,
    T_PORTS,
    T_WAITING,
    T_STAFFED,
    T_OPEN,
    T_CAP,
    T_NOM,
    T_PCAP,
) = range(12)
N_T_I = 12
(
    T_TOKENS,
    T_TLAST,
    T_CPS_RATE,
    T_CPS_BURST,
    T_WAIT_LIMIT,
    T_MEAN_HANDLE,
    T_BUSY_SEC,
    T_TRUNK_SEC,
    T_TRUNK_T,
) = range(9)
N_T_F = 9

# -- the platform as a whole ----------------------------------------------------------------
(
    G_TRUNKS,
    G_BUSY,
    G_PORTS,
    G_PBUSY,
    G_GUARD,
    G_CONTENTION,
    G_CALL_PORTS,
    G_CONSULT_PORTS,
    G_SEQ,
    G_HEAP_N,
    G_NOUT,
    G_FREE_N,
    G_FAILOVER,
    G_PEAK_TRUNKS,
    G_PEAK_PORTS,
    G_MAXA,
    G_ACTIVE,
    G_STATIC,
) = range(18)
N_G_I = 18
G_TRUNK_SEC, G_PORT_SEC, G_LAST_T, G_FAILOVER_S, G_RING_TIMEOUT = range(5)
N_G_F = 5

# -- carriers -------------------------------------------------------------------------------
(
    C_CAP,
    C_BUSY,
    C_PEAK,
    C_ATTEMPTS,
    C_CONNECTED,
    C_DOWNFAIL,
    C_SKIP_FULL,
    C_SKIP_CPS,
    C_BILLING,
    C_SEIZED,
) = range(10)
N_C_I = 10
C_CPS, C_BURST, C_TOKENS, C_TLAST, C_ASR, C_DOWN_FROM, C_DOWN_TO, C_BILLED_SEC = range(8)
N_C_F = 8

# -- events ---------------------------------------------------------------------------------
E_ABANDON, E_RETRY, E_ENQUEUE, E_END1, E_CONSULT_END, E_END2, E_WRAP = range(7)

# -- emitted rows: one per finished attempt ------------------------------------------------
O_T, O_WAIT, O_ANSWER, O_END, O_PORTSEC, O_BILLED, O_SERVED, O_SERVED2 = range(8)
N_OUT_F = 8
(
    O_SESSION,
    O_ATTEMPT,
    O_TENANT,
    O_QUEUE,
    O_CHANNEL,
    O_CUSTOMER,
    O_NUMBER,
    O_OUTCOME,
    O_AGENT,
    O_AGENT2,
    O_XFER,
    O_LEGS,
    O_PORTS,
    O_CARRIER,
    O_FREE_TRUNKS,
    O_RETRIED,
    O_QUEUED,
    O_FAILOVERS,
) = range(18)
N_OUT_I = 18
