"""The protocol's sizes, each defined once: the control frame limit (RFC
6455 §5.5), and on the receiving side (RFC 6455 §10.4: an endpoint bounds
what it accepts) how reads into the receive buffer grow and
shrink, when a frame is big enough for its own memory, and what a message
may cost.

Plain Python, never compiled: the compiled rooms (``_buffer``, ``_reader``,
``_parser``, ``_writer``) import each into a C integer of their own, which a compiled
room's own constants cannot give (they are not module attributes there).
"""

from __future__ import annotations

__all__ = [
    "BIG_FRAME",
    "CONTROL_MAX",
    "DEFAULT_MAX_SIZE",
    "EXACT_AHEAD",
    "EXACT_MAX",
    "FRAGMENT_COST",
    "HEADER_MAX",
    "READ_GROWN",
    "READ_MAX",
    "READ_MIN",
]

#: RFC 6455 §5.5: "All control frames MUST have a payload length of 125
#: bytes or less", sent or received.
CONTROL_MAX = 125
#: ``max_size`` when none is given: the longest message accepted.
DEFAULT_MAX_SIZE = 64 * 1024 * 1024
#: Frames at least this long that are not yet fully buffered are received
#: straight into their message's own memory instead of the shared buffer.
BIG_FRAME = 64 * 1024
#: The longest frame header: 2 + 8 length + 4 mask key.
HEADER_MAX = 14
#: get_buffer() offers at most this much per read into a big frame's own
#: memory, and at first into the shared buffer.  Smaller reads hand TCP
#: receive-window space back to the sender sooner, so both ends work at once:
#: on loopback here 128 KiB reads moved 5.3 GB/s, 1 MiB reads 4.3 GB/s.
READ_MAX = 128 * 1024
#: The shared buffer starts at twice this, the read it first offers: an
#: open connection that receives little keeps little (the buffer was
#: 256 KiB from the start, 271 KiB of RSS per idle connection).
READ_MIN = 2 * 1024
#: While reads into the shared buffer keep coming back full (a feed of small
#: messages faster than they are parsed), the read offered there doubles up
#: to this, and the buffer grows to twice the read.  Reads shorter than
#: READ_MIN halve it again, and once it is down to READ_MIN an empty buffer
#: goes back to its first size: memory returns as the traffic calms down.  A socket read costs the
#: same kernel work whatever its size: with 4 KiB messages 128 KiB reads were
#: 41% of the time in the kernel, and 512 KiB reads took 1.56 to 1.21 µs per
#: message (bench/README.md).  Larger reads gained nothing more.
READ_GROWN = 512 * 1024
#: The compiled build receives a message in one frame of up to this size
#: straight into its final bytes object, allocated at once (the OS commits
#: pages only as bytes land); a larger one grows as its bytes arrive, as
#: every message does in plain Python, so that an announced length alone
#: never reserves memory.
EXACT_MAX = 1 << 30
#: ... but a header alone reserves at most this: a longer one-frame message
#: is grown as its bytes arrive until a quarter of it came (_to_exact), so
#: that announcements cost address space only as the bytes back them.
EXACT_AHEAD = 1 << 20
#: What each continuation frame costs against ``max_size`` on top of its
#: payload.  Without it a message of millions of empty fragments costs
#: work and bookkeeping without end while its payload stays under the
#: limit; with it, a message has at most ``max_size / 16`` fragments.  An
#: honest fragmented message pays little: 1 MiB in 4 KiB fragments is
#: charged 4 KiB more.  The first frame is free, so a message in one frame
#: may be exactly ``max_size`` bytes.
FRAGMENT_COST = 16
