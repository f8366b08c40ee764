"""The Lua steps run inside Redis: each decision is one atomic server-side step.

**Counters** (:data:`COUNTER`): the decaying counter of :mod:`limiters.counter`, the same
arithmetic line for line (Lua numbers are IEEE doubles, like Python floats), over a hash
``{l: level, t: time, a: anchor}`` (counter units, seconds).  ``KEYS[1]`` is the counter;
``ARGV`` is ``op, maximum, decay, step, margin, amount, now``:

* ``op``: ``try`` (charge ``amount`` if ``level + amount <= maximum - margin + 1e-9``; the
  caller folds the cancel reserve it holds into ``margin``), ``force`` (charge anyway),
  ``saturate`` (level to at least ``maximum``), ``resync`` (adopt level ``amount``),
  ``level`` (read only);
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

__all__ = ["COUNTER", "EPSILON_LUA", "NONCE"]

#: The tolerance of :data:`limiters.counter.EPSILON`, as the script spells it.
EPSILON_LUA = "1e-9"

COUNTER = """
local EPS = 1e-9
local op = ARGV[1]
local maximum = tonumber(ARGV[2])
local decay = tonumber(ARGV[3])
local step = tonumber(ARGV[4])
local margin = tonumber(ARGV[5])
local amount = tonumber(ARGV[6])
local now
if ARGV[7] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
else
  now = tonumber(ARGV[7])
end
local function fmt(x) return string.format('%.17g', x) end

local st = redis.call('HMGET', KEYS[1], 'l', 't', 'a')
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
  redis.call('HSET', KEYS[1], 'l', fmt(level), 't', fmt(t), 'a', fmt(anchor))
  redis.call('PEXPIRE', KEYS[1], math.ceil((level / decay + step + 10) * 1000))
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
elseif op == 'level' then
  return {0, '0', fmt(level)}
else
  return redis.error_reply('unknown op ' .. op)
end
save()
return {1, '0', fmt(level)}
"""

#: A key's next nonce, shared by every process on the key: ``max(last + 1, now_ms)`` where
#: ``now_ms`` is Redis ``TIME`` in milliseconds (the unit of
#: :class:`~engine.venues.kraken_rest.nonce.WallClockNonces`, so a key may move between
#: the two).  ``KEYS[1]``: the key's nonce; the value is kept for a day after its last use.
NONCE = """
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local last = tonumber(redis.call('GET', KEYS[1]) or '-1')
local nonce = math.max(last + 1, now_ms)
redis.call('SET', KEYS[1], string.format('%.0f', nonce), 'EX', 86400)
return string.format('%.0f', nonce)
"""
