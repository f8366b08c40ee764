"""The Lua steps run inside Redis: each decision is one atomic server-side step.

**Counters** (:data:`COUNTER`): the decaying counter of :mod:`limiters.counter`, the same
arithmetic line for line (Lua numbers are IEEE doubles, like Python floats), over a hash
``{l: level, t: time, a: anchor}`` (counter units, seconds).  ``KEYS[1]`` is the counter;
``ARGV`` is ``op, maximum, decay, step, margin, amount, now``:

* ``op``: ``try`` (charge ``amount`` if ``level + amount <= maximum - margin + 1e-9``; the
  caller folds the cancel reserve it holds into ``margin``), ``force`` (charge anyway),
  ``saturate`` (level to at least ``maximum``), ``resync`` (adopt level ``amount``),
  ``raise`` (level to at least ``amount``: what a process last saw, after Redis lost its
  state), ``level`` (read only);
* ``now``: seconds; empty means Redis ``TIME``, so that every process shares one clock
  (the tests pass explicit times to hold the script against :mod:`limiters`).

It answers ``{charged, wait, level}``: ``charged`` 1 or 0; ``wait`` the seconds from
``now`` until ``amount`` fits (0 when charged; as ``CounterSpec.time_until_fits`` without
its last-ulp nudges); ``level`` after the step.  Numbers travel as ``%.17g`` strings (a
float's exact round trip; Redis would truncate a Lua number to an integer).  The key
expires once the level has decayed to zero (plus one step and 10 s): an empty counter and
a missing key behave the same.
"""

from __future__ import annotations

__all__ = ["COUNTER", "EPSILON_LUA", "NONCE", "OPEN_ADD", "OPEN_RENEW", "RESTORE", "WIRE_CLOSE",
           "WIRE_OPEN"]

#: The tolerance of :data:`limiters.counter.EPSILON`, as the script spells it.
EPSILON_LUA = "1e-9"

#: The counter step as a Lua function (``counter(key, op, maximum, decay, step, margin,
#: amount, now)``, ``now`` a number), shared by :data:`COUNTER` and :data:`OPEN_ADD`.
_COUNTER_FN = """
local EPS = 1e-9
local function fmt(x) return string.format('%.17g', x) end
local function redis_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end

local function counter(key, op, maximum, decay, step, margin, amount, now)
  local st = redis.call('HMGET', key, 'l', 't', 'a')
  local level, time, anchor
  if st[1] then
    level, time, anchor = tonumber(st[1]), tonumber(st[2]), tonumber(st[3])
  else
    level, time, anchor = 0.0, now, now
  end
  -- time never runs backwards: an earlier now is the state's time
  local t = now
  if time > t then t = time end
  -- decay to t (CounterSpec._decayed)
  local elapsed = t - anchor
  if step <= 0 then
    level = math.max(0.0, level - decay * elapsed)
    anchor = t
  else
    local steps = math.floor(elapsed / step + EPS)
    if steps > 0 then
      level = math.max(0.0, level - decay * step * steps)
      anchor = anchor + steps * step
    end
  end

  local function add(c)  -- CounterSpec._add
    if step > 0 and level < decay * step then anchor = t end
    level = level + c
  end
  local function save()
    redis.call('HSET', key, 'l', fmt(level), 't', fmt(t), 'a', fmt(anchor))
    redis.call('PEXPIRE', key, math.ceil((level / decay + step + 10) * 1000))
  end

  local capacity = maximum - margin
  if op == 'try' then
    if level + amount <= capacity + EPS then
      add(amount)
      save()
      return {1, '0', fmt(level)}
    end
    save()
    local excess = level + amount - capacity
    local at
    if step <= 0 then
      at = t + excess / decay
    else
      at = math.max(t, anchor + math.ceil((excess - EPS) / (decay * step)) * step)
    end
    return {0, fmt(at - now), fmt(level)}
  elseif op == 'force' then
    add(amount)
  elseif op == 'saturate' then
    level = math.max(level, maximum)
    anchor = t
  elseif op == 'resync' then
    level = amount
    anchor = t
  elseif op == 'raise' then  -- at least amount (a level known before Redis lost it)
    if amount > level then
      level = amount
      anchor = t
    end
  elseif op == 'level' then
    return {0, '0', fmt(level)}
  else
    return redis.error_reply('unknown op ' .. op)
  end
  save()
  return {1, '0', fmt(level)}
end
"""

COUNTER = _COUNTER_FN + """
local now
if ARGV[7] == '' then now = redis_now() else now = tonumber(ARGV[7]) end
if ARGV[1] == 'try' and KEYS[2] then  -- the store is being restored: no charge yet
  local ms = redis.call('PTTL', KEYS[2])
  if ms > 0 then
    local lv = counter(KEYS[1], 'level', tonumber(ARGV[2]), tonumber(ARGV[3]),
                       tonumber(ARGV[4]), tonumber(ARGV[5]), 0, now)
    return {0, string.format('%.17g', ms / 1000), lv[3]}
  end
end
return counter(KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]),
               tonumber(ARGV[5]), tonumber(ARGV[6]), now)
"""

#: Open-order slots, account-wide per pair: ``KEYS[2]`` a hash (process id -> the orders
#: it holds on the pair), ``KEYS[3]`` a sorted set of leases (process id -> expiry, ms of
#: Redis time).  A process's entry lives while its lease does: a process that dies stops
#: renewing, and its slots are free once its lease has expired.
_SLOTS_FN = """
local function slots(counts, leases, proc, mine, lease_ms)
  -- mine < 0: renew the lease only, keep the count (an add of this process is being decided)
  local t = redis.call('TIME')
  local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local dead = redis.call('ZRANGEBYSCORE', leases, '-inf', now_ms)
  for _, p in ipairs(dead) do
    if p ~= proc then
      redis.call('HDEL', counts, p)
      redis.call('ZREM', leases, p)
    end
  end
  if mine >= 0 then redis.call('HSET', counts, proc, mine) end
  redis.call('ZADD', leases, now_ms + lease_ms, proc)
  redis.call('PEXPIRE', counts, lease_ms * 4)
  redis.call('PEXPIRE', leases, lease_ms * 4)
  local total = 0
  for _, v in ipairs(redis.call('HVALS', counts)) do total = total + tonumber(v) end
  return total
end
"""

#: An add of ``n`` orders: an open-order slot for each (the account's total under
#: ``max_open``), then the trading charge (the counter's ``try``), in one step; refused
#: slots answer ``{0, poll, level}`` (``poll``: seconds until asking again), a refused
#: charge gives its slots back.  ``ARGV``: the counter's 7, then ``proc, mine, n,
#: max_open, lease_ms, poll`` (``mine``: the orders this process holds on the pair now).
OPEN_ADD = _COUNTER_FN + _SLOTS_FN + """
local proc, mine, n = ARGV[8], tonumber(ARGV[9]), tonumber(ARGV[10])
local restoring = redis.call('PTTL', KEYS[4])
if restoring > 0 then  -- the store is being restored: no slot, no charge yet
  local lv = counter(KEYS[1], 'level', tonumber(ARGV[2]), tonumber(ARGV[3]),
                     tonumber(ARGV[4]), tonumber(ARGV[5]), 0, redis_now())
  return {0, string.format('%.17g', restoring / 1000), lv[3]}
end
local total = slots(KEYS[2], KEYS[3], proc, mine, tonumber(ARGV[12]))
if total + n > tonumber(ARGV[11]) then
  local lv = counter(KEYS[1], 'level', tonumber(ARGV[2]), tonumber(ARGV[3]),
                     tonumber(ARGV[4]), tonumber(ARGV[5]), 0, redis_now())
  return {0, ARGV[13], lv[3]}
end
local now
if ARGV[7] == '' then now = redis_now() else now = tonumber(ARGV[7]) end
local r = counter(KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]),
                  tonumber(ARGV[5]), tonumber(ARGV[6]), now)
if r[1] == 1 then redis.call('HSET', KEYS[2], proc, mine + n) end
return r
"""

#: Renew a process's lease and set what it holds (``ARGV``: proc, mine, lease_ms; keys as
#: :data:`OPEN_ADD`'s 2 and 3); answers the account's total.  ``mine`` -1: leave (release
#: everything now, on a clean exit); -2: renew the lease only.
OPEN_RENEW = _SLOTS_FN + """
if tonumber(ARGV[2]) == -1 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
return slots(KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]))
"""


def _next_nonce(key: str, last_arg: str) -> str:
    """Lua that takes and stores the next nonce of ``key`` (``KEYS[i]``) into ``nonce``:
    ``max(stored + 1, Redis TIME in ms, the caller's last (``ARGV[j]``) + 1)``."""
    return f"""
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local last = tonumber(redis.call('GET', {key}) or '-1')
local nonce = math.max(last + 1, now_ms, tonumber({last_arg}) + 1)
redis.call('SET', {key}, string.format('%.0f', nonce), 'EX', 86400)
"""


#: A key's next nonce, shared by every process on the key: ``max(last + 1, now_ms, floor +
#: 1)`` (``ARGV[1]``: the caller's last nonce, should Redis have lost the value) where
#: ``now_ms`` is Redis ``TIME`` in milliseconds (the unit of
#: :class:`~engine.venues.kraken_rest.nonce.WallClockNonces`, so a key may move between
#: the two).  ``KEYS[1]``: the key's nonce; the value is kept for a day after its last use.
NONCE = _next_nonce("KEYS[1]", "ARGV[1]") + """return string.format('%.0f', nonce)
"""

#: "One private request of a key on the wire", cluster-wide: ``KEYS[1]`` the key's wire
#: lease, ``KEYS[2]`` its nonce (as :data:`NONCE`).  ``ARGV``: token (this request),
#: lease_ms, the caller's last nonce.  Free: take the lease for ``lease_ms`` and answer
#: the nonce to send; held: answer ``-ttl`` (ms until it expires, at least -1).  A process
#: that dies with the lease loses it when the lease expires.
WIRE_OPEN = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', tonumber(ARGV[2])) then
""" + _next_nonce("KEYS[2]", "ARGV[3]") + """
  return string.format('%.0f', nonce)
end
return string.format('%.0f', -math.max(1, redis.call('PTTL', KEYS[1])))
"""

#: The request is off the wire: drop the lease if it is still this request's (token).
WIRE_CLOSE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

#: After an outage: ``KEYS[1]`` the account's epoch (set once, when a process connects),
#: ``KEYS[2]`` the restoring marker.  A missing epoch means Redis came back without its
#: state: the marker is set for ``ARGV[1]`` ms, during which tries and adds are refused
#: (``COUNTER`` with ``KEYS[2]``, ``OPEN_ADD`` with ``KEYS[4]``) while every process puts
#: back the levels and slots it knows.  Answers 1 when this call set it.
RESTORE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], '1')
redis.call('SET', KEYS[2], '1', 'PX', tonumber(ARGV[1]))
return 1
"""
