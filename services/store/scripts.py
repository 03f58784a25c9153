"""The dedup index's Lua scripts: every check-and-insert runs in Redis, atomically per batch.

Layout under `<prefix>:index` (B = bucket, `digest[0:2] mod buckets`; G = generation):
  u:B      url digest -> content digest of the record stored with that URL
  h:B      content digest -> record id (the one place an id is kept)
  s:G:B    content digest -> sketch               } near-duplicate index, one set per
  b:G:B    band key -> content digest (last wins) } generation, expiring with the window
  reserved record id -> writer, message id, generation, url and content digest (hex), and
           the corpus file and offset the writer's next lines started from when it reserved
  checkpoint  writer -> corpus file and offset up to which its records are committed
  meta     the parameters the index was built with

Spreading each index over many small hashes keeps them in Redis's compact listpack encoding,
a few bytes of overhead per entry instead of about forty in a hashtable. Key names are built
inside the scripts, so the index is for a standalone server (not Redis Cluster).
"""

from __future__ import annotations

_PRELUDE = """
local base = ARGV[1]
local nbuckets = tonumber(ARGV[2])
local function bucket(d)
  return (string.byte(d, 1) * 256 + string.byte(d, 2)) % nbuckets
end
local function ukey(d) return base .. ':u:' .. bucket(d) end
local function hkey(d) return base .. ':h:' .. bucket(d) end
local function skey(g, d) return base .. ':s:' .. g .. ':' .. bucket(d) end
local function bkey(g, d) return base .. ':b:' .. g .. ':' .. bucket(d) end
local reserved = base .. ':reserved'
local expiring = {}
local function expire(key, at)
  if not expiring[key] then
    expiring[key] = true
    redis.call('EXPIREAT', key, at)
  end
end
-- A record's keys: url and content digests always; with a sketch, its near-duplicate keys in
-- generation g, expiring at `at`. `set` is HSET (reserve: replace) or HSETNX (add: keep);
-- the band keys are ARGV[bands], ARGV[bands + 1], ...
local function index_record(set, id, ud, cd, g, at, sketch, nbands, bands)
  redis.call(set, ukey(ud), ud, cd)
  redis.call(set, hkey(cd), cd, id)
  if g ~= '' and sketch ~= '' then
    local sk = skey(g, cd)
    redis.call(set, sk, cd, sketch)
    expire(sk, at)
    for j = 0, nbands - 1 do
      local band = ARGV[bands + j]
      local bk = bkey(g, band)
      redis.call(set, bk, band, cd)
      expire(bk, at)
    end
  end
end
"""

# ARGV: base, buckets, writer, threshold, bands, generation, expire_at, generations searched,
# the writer's corpus position (file, offset), then per record: id, message id, url digest,
# content digest, sketch ('' for no text), band keys. Returns per record: status, id of the
# record it duplicates, similarity, and the reservation a redelivered message took over
# (its writer, and the position from which that writer may have written the record).
RESERVE = (
    _PRELUDE
    + """
local writer = ARGV[3]
local threshold = tonumber(ARGV[4])
local nbands = tonumber(ARGV[5])
local gen = tonumber(ARGV[6])
local expire_at = tonumber(ARGV[7])
local ngens = tonumber(ARGV[8])
local pos_file, pos_offset = ARGV[9], ARGV[10]
local first = 11
local per = 5 + nbands

local function hex(s)
  return (string.gsub(s, '.', function(c) return string.format('%02x', string.byte(c)) end))
end

local function similarity(x, y)
  local n = #x
  local a, b = {string.byte(x, 1, n)}, {string.byte(y, 1, n)}
  local same = 0
  for i = 1, n do
    if a[i] == b[i] then
      same = same + 2
    else
      if a[i] % 16 == b[i] % 16 then same = same + 1 end
      if math.floor(a[i] / 16) == math.floor(b[i] / 16) then same = same + 1 end
    end
  end
  local s = (same / (2 * n) - 0.0625) / 0.9375
  if s < 0 then s = 0 end
  return s
end

local function fields(s)
  local out = {}
  for f in string.gmatch(s .. '\\t', '([^\\t]*)\\t') do table.insert(out, f) end
  return out
end

local function owner_of(cd)
  return redis.call('HGET', hkey(cd), cd)
end

local out = {}
local count = (#ARGV - first + 1) / per
for i = 0, count - 1 do
  local o = first + i * per
  local id, msgid, ud, cd, sketch = ARGV[o], ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4]
  local status, of, sim, prev, prev_pos = 'new', '', '1', '', ''
  local owner = false
  local linked = redis.call('HGET', ukey(ud), ud)
  if linked then
    owner = owner_of(linked)
    if owner then status = 'exact-url' end
  end
  if not owner then
    owner = owner_of(cd)
    if owner then status = 'exact-hash' end
  end
  if owner then
    of = owner
    if owner == id then
      -- Its own keys: the same message redelivered before it was committed goes on; any
      -- other message with this id is a copy of a document already stored. Whoever held
      -- the reservation (another replica, a killed predecessor with this writer's name, or
      -- this very process when its commit failed after the write) may have written the
      -- record already: the caller checks that writer's corpus files before writing.
      local held = redis.call('HGET', reserved, id)
      if held then
        local f = fields(held)
        if f[2] == msgid then
          status, of, prev = 'takeover', '', f[1]
          -- A reservation made before positions were kept has none: '' means scan all.
          if f[6] and f[6] ~= '' then prev_pos = f[6] .. '\\t' .. f[7] end
        end
      end
    end
  elseif sketch ~= '' then
    local best, best_id = -1, false
    local seen = {}
    for g = gen, gen - ngens + 1, -1 do
      for j = 0, nbands - 1 do
        local band = ARGV[o + 5 + j]
        local cand = redis.call('HGET', bkey(g, band), band)
        if cand and cand ~= cd and not seen[cand] then
          seen[cand] = true
          local other = redis.call('HGET', skey(g, cand), cand)
          if other then
            local s = similarity(sketch, other)
            if s >= threshold and s > best then
              local who = owner_of(cand)
              if who and who ~= id then best, best_id = s, who end
            end
          end
        end
      end
    end
    if best_id then status, of, sim = 'near', best_id, string.format('%.4f', best) end
  end
  if status == 'new' or status == 'takeover' then
    index_record('HSET', id, ud, cd, gen, expire_at, sketch, nbands, o + 5)
    local held = table.concat({writer, msgid, gen, hex(ud), hex(cd), pos_file, pos_offset}, '\\t')
    redis.call('HSET', reserved, id, held)
  end
  table.insert(out, status)
  table.insert(out, of)
  table.insert(out, sim)
  table.insert(out, prev)
  table.insert(out, prev_pos)
end
return out
"""
)

# ARGV: base, buckets, bands, then per record: id, url digest, content digest, generation
# ('' outside the window), expire_at, sketch, band keys. Adds what is missing, never replaces.
ADD = (
    _PRELUDE
    + """
local nbands = tonumber(ARGV[3])
local per = 6 + nbands
local count = (#ARGV - 3) / per
for i = 0, count - 1 do
  local o = 4 + i * per
  local id, ud, cd, gen, at, sketch = ARGV[o], ARGV[o+1], ARGV[o+2], ARGV[o+3], ARGV[o+4], ARGV[o+5]
  index_record('HSETNX', id, ud, cd, gen, at, sketch, nbands, o + 6)
end
return count
"""
)

# ARGV: base, buckets, writer, then record ids. Drops the writer's reservations of records
# that never reached its corpus, so their keys block nothing; returns how many it dropped.
RELEASE = (
    _PRELUDE
    + """
local writer = ARGV[3]
local function unhex(h)
  return (string.gsub(h, '%x%x', function(c) return string.char(tonumber(c, 16)) end))
end
local dropped = 0
for i = 4, #ARGV do
  local id = ARGV[i]
  local held = redis.call('HGET', reserved, id)
  if held then
    local w, m, g, udh, cdh =
      string.match(held, '^([^\\t]*)\\t([^\\t]*)\\t([^\\t]*)\\t(%x*)\\t(%x*)')
    if w == writer then
      local ud, cd = unhex(udh), unhex(cdh)
      if redis.call('HGET', hkey(cd), cd) == id then
        redis.call('HDEL', hkey(cd), cd)
        redis.call('HDEL', skey(g, cd), cd)
        if redis.call('HGET', ukey(ud), ud) == cd then redis.call('HDEL', ukey(ud), ud) end
      end
      redis.call('HDEL', reserved, id)
      dropped = dropped + 1
    end
  end
end
return dropped
"""
)

# The index binding lock (KEYS[1]), held by one owner (ARGV[1]) at a time. Take: set it if it
# is free or already the caller's (a restarted process of the same writer); renew: extend it
# only while it is still the caller's; drop: delete it only if it is still the caller's.
LOCK_TAKE = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return holder end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ''
"""

LOCK_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

LOCK_DROP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
