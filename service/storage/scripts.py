"""Every Lua script the service runs: each multi-key change to the review queue is one atomic script.

Times are passed in by the caller (ms since the epoch and ISO 8601), so that
every instance and the tests agree on what "expired" means. A lease is live
while its expiry in the leases set is greater than now; an expired lease
needs no clean-up job: claim and decide treat it as absent.
"""

# KEYS[1] review queue (zset, priority), KEYS[2] leases (zset, expiry ms)
# ARGV[1] now ms, ARGV[2] lease expiry ms, ARGV[3] holder, ARGV[4] limit,
# ARGV[5] comment key prefix, ARGV[6] history key suffix, ARGV[7] now ISO, ARGV[8] expiry ISO
# Returns the ids leased to the holder, best first.
CLAIM = """
local now, expires, holder, limit = tonumber(ARGV[1]), ARGV[2], ARGV[3], tonumber(ARGV[4])
local claimed, offset, batch_size = {}, 0, 100
while #claimed < limit do
  local batch = redis.call('ZRANGE', KEYS[1], offset, offset + batch_size - 1)
  if #batch == 0 then break end
  for _, id in ipairs(batch) do
    local lease = redis.call('ZSCORE', KEYS[2], id)
    if (not lease) or tonumber(lease) <= now then
      local comment, history = ARGV[5] .. id, ARGV[5] .. id .. ARGV[6]
      if lease then
        local previous = redis.call('HGET', comment, 'lease_holder')
        redis.call('RPUSH', history, cjson.encode({event = 'lease_expired', by = 'system', at = ARGV[7],
                                                   holder = previous}))
      end
      redis.call('ZADD', KEYS[2], expires, id)
      redis.call('HSET', comment, 'lease_holder', holder, 'lease_expires_at', ARGV[8])
      redis.call('RPUSH', history, cjson.encode({event = 'leased', by = holder, at = ARGV[7], ['until'] = ARGV[8]}))
      claimed[#claimed + 1] = id
      if #claimed >= limit then break end
    end
  end
  offset = offset + batch_size
end
return claimed
"""

# KEYS[1] comment hash, KEYS[2] its history, KEYS[3] review queue, KEYS[4] leases,
# KEYS[5] pending index, KEYS[6] approved index, KEYS[7] rejected index,
# KEYS[8] labels hash, KEYS[9] labels by time, KEYS[10] webhook outbox stream
# ARGV[1] id, ARGV[2] actor, ARGV[3] new status (approved|rejected), ARGV[4] note,
# ARGV[5] now ms, ARGV[6] now ISO, ARGV[7] mode: 'review' (pending only) or 'override' (decided only),
# ARGV[8] ms to keep a rejected comment (0: forever), ARGV[9] outbox max length
# Besides the status change, it records the human label (keeping earlier ones as revisions), queues a
# comment.decided event for the webhooks and sets or clears the rejected comment's expiry, all at once.
# Returns {'ok', previous status} or {error code, detail}: not_found, not_pending, same_status, leased.
DECIDE = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'not_found', ''} end
local new, mode = ARGV[3], ARGV[7]
if mode == 'review' then
  if status ~= 'pending' then return {'not_pending', status} end
  local lease = redis.call('ZSCORE', KEYS[4], ARGV[1])
  if lease and tonumber(lease) > tonumber(ARGV[5]) then
    local holder = redis.call('HGET', KEYS[1], 'lease_holder')
    if holder ~= ARGV[2] then return {'leased', holder} end
  end
else
  if status == 'pending' then return {'not_pending', status} end
  if status == new then return {'same_status', status} end
end
redis.call('HSET', KEYS[1], 'status', new, 'decided_by', ARGV[2], 'decided_at', ARGV[6], 'updated_at', ARGV[6],
           'decision_note', ARGV[4])
redis.call('HDEL', KEYS[1], 'lease_holder', 'lease_expires_at')
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
local from_index = {pending = KEYS[5], approved = KEYS[6], rejected = KEYS[7]}
redis.call('ZREM', from_index[status], ARGV[1])
redis.call('ZADD', from_index[new], 0, ARGV[1])
local event = (mode == 'review') and 'decided' or 'overridden'
redis.call('RPUSH', KEYS[2], cjson.encode({event = event, by = ARGV[2], at = ARGV[6], status = new, previous = status,
                                           note = ARGV[4]}))

local fields = redis.call('HMGET', KEYS[1], 'submission', 'score', 'model_version', 'language', 'auto_status')
local submission = cjson.decode(fields[1])
-- HMGET gives false for a missing field; `or nil` leaves such keys out of the JSON.
local label = {comment_id = ARGV[1], text = submission.text, label = (new == 'rejected') and 1 or 0,
               lang = fields[4] or nil, decided_by = ARGV[2], decided_at = ARGV[6], model_version = fields[3] or nil,
               score = tonumber(fields[2]), previous_status = status, auto_status = fields[5] or status}
local earlier = redis.call('HGET', KEYS[8], ARGV[1])
if earlier then
  local old = cjson.decode(earlier)
  local revisions = old.revisions or {}
  revisions[#revisions + 1] = {label = old.label, decided_by = old.decided_by, decided_at = old.decided_at}
  label.revisions = revisions
end
redis.call('HSET', KEYS[8], ARGV[1], cjson.encode(label))
redis.call('ZADD', KEYS[9], ARGV[5], ARGV[1])

redis.call('XADD', KEYS[10], 'MAXLEN', '~', ARGV[9], '*', 'type', 'comment.decided', 'data',
           cjson.encode({id = ARGV[1], status = new, previous_status = status, decided_by = ARGV[2],
                         decided_at = ARGV[6], override = (mode == 'override')}))

local keep = tonumber(ARGV[8])
if new == 'rejected' and keep > 0 then
  redis.call('PEXPIRE', KEYS[1], keep)
  redis.call('PEXPIRE', KEYS[2], keep)
else
  redis.call('PERSIST', KEYS[1])
  redis.call('PERSIST', KEYS[2])
end
return {'ok', status}
"""

# KEYS[1] comment hash, KEYS[2] its history, KEYS[3] leases
# ARGV[1] id, ARGV[2] actor, ARGV[3] now ms, ARGV[4] now ISO
# Returns {'ok', ''} or {error code, detail}: not_found, not_pending, not_leased, leased.
RELEASE = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'not_found', ''} end
if status ~= 'pending' then return {'not_pending', status} end
local lease = redis.call('ZSCORE', KEYS[3], ARGV[1])
if (not lease) or tonumber(lease) <= tonumber(ARGV[3]) then return {'not_leased', ''} end
local holder = redis.call('HGET', KEYS[1], 'lease_holder')
if holder ~= ARGV[2] then return {'leased', holder} end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[1], 'lease_holder', 'lease_expires_at')
redis.call('RPUSH', KEYS[2], cjson.encode({event = 'released', by = ARGV[2], at = ARGV[4]}))
return {'ok', ''}
"""

# KEYS[1] due deliveries (zset, due time ms)
# ARGV[1] now ms, ARGV[2] lease ms, ARGV[3] limit
# Returns up to `limit` due deliveries, each now due again only after the lease: if the instance dies while
# delivering, another instance retries after the lease instead of the delivery being lost.
CLAIM_DELIVERIES = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local until_ms = tonumber(ARGV[1]) + tonumber(ARGV[2])
for _, member in ipairs(due) do
  redis.call('ZADD', KEYS[1], until_ms, member)
end
return due
"""

# Stores a new comment from a JSON payload (built by storage.comments.store_request): the record hash,
# its first history event, its status index entry, its queue entry when pending, the shadow model's
# verdict, and the expiry of a rejected comment. KEYS[k..k+4]: comment hash, history, status index,
# review queue, shadow results. Absent payload members are simply absent (never JSON null).
STORE_FUNCTION = """
local function store_new(k, payload)
  local p = cjson.decode(payload)
  redis.call('HSET', KEYS[k], unpack(p.fields))
  redis.call('RPUSH', KEYS[k + 1], p.event)
  redis.call('ZADD', KEYS[k + 2], 0, p.id)
  if p.priority then redis.call('ZADD', KEYS[k + 3], p.priority, p.id) end
  if p.shadow then redis.call('HSET', KEYS[k + 4], p.id, p.shadow) end
  if p.expire_ms then
    redis.call('PEXPIRE', KEYS[k], p.expire_ms)
    redis.call('PEXPIRE', KEYS[k + 1], p.expire_ms)
  end
end
"""

# KEYS[1..5] as in STORE_FUNCTION; ARGV[1] the payload. All of it or nothing, in one round trip.
STORE = STORE_FUNCTION + """
store_new(1, ARGV[1])
return 1
"""

# KEYS[1..n] rate-limit counters, KEYS[n+1..m] flood markers, then t text keys (when the text is long
# enough: the duplicate counter KEYS[m+1], the b fingerprint buckets this text is filed under, then the
# other buckets to search), then, when a comment is to be stored, the 5 keys of STORE_FUNCTION.
# ARGV[1] n, ARGV[2] m, ARGV[3] t, ARGV[4] the STORE payload or '' (none), then per counter: limit,
# window seconds; then the flood window (ms); then, for the text: window ms, fingerprint high 32 bits,
# low 32 bits, largest near distance, b.
# Checks every limit first; if one is exceeded, nothing is recorded and it returns {index, ms until reset,
# 0, 0, 0}. Otherwise it counts the submission in each limit, counts earlier submissions of the same text,
# and looks for one earlier text whose fingerprint is at most the near distance away (compared here, so the
# candidates never leave Redis): first in this text's own buckets, where a near duplicate is most likely,
# then in the neighbouring ones, stopping at the first found. A text with no near duplicate is filed in its
# own buckets; one with a near duplicate is not, as that earlier text already stands for it: a flood of
# variations of one text cannot grow the buckets every later lookup reads.
# Then, if the text is new (no duplicate, no near duplicate), the decision made without those signals
# stands and the comment is stored: {0, 0, 0, 0, 1}. Otherwise nothing is stored and it returns
# {0, 0, duplicates, 1 if a near duplicate was found else 0, 0} for the caller to decide again.
# One round trip for all abuse state and, for a new text, the whole submission.
ADMIT = STORE_FUNCTION + """
local n, m, t, payload = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
for i = 1, n do
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  if count >= tonumber(ARGV[3 + 2 * i]) then return {i, redis.call('PTTL', KEYS[i]), 0, 0, 0} end
end
for i = n + 1, m do
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl > 0 then return {i, ttl, 0, 0, 0} end
end
for i = 1, n do
  if redis.call('INCR', KEYS[i]) == 1 then redis.call('EXPIRE', KEYS[i], tonumber(ARGV[4 + 2 * i])) end
end
local at = 5 + 2 * n
for i = n + 1, m do redis.call('SET', KEYS[i], '1', 'PX', ARGV[at]) end

local duplicates, near = 0, 0
if t > 0 then
  local window, high, low = ARGV[at + 1], tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3])
  local limit, filed = tonumber(ARGV[at + 4]), tonumber(ARGV[at + 5])
  duplicates = redis.call('INCR', KEYS[m + 1]) - 1
  redis.call('PEXPIRE', KEYS[m + 1], window)
  local function popcount(x)
    local c = 0
    while x ~= 0 do x = bit.band(x, x - 1); c = c + 1 end
    return c
  end
  local function search(first, last)
    for _, member in ipairs(redis.call('SUNION', unpack(KEYS, first, last))) do
      local h, l = member:match('^(%d+):(%d+)$')
      if h then  -- members in any other format (an older version's) are ignored, never an error
        local d = popcount(bit.bxor(tonumber(h), high)) + popcount(bit.bxor(tonumber(l), low))
        if d <= limit then return 1 end  -- 0 too: another text with the very same fingerprint
      end
    end
    return 0
  end
  near = search(m + 2, m + 1 + filed)
  if near == 0 then near = search(m + 2 + filed, m + t) end
  if near == 0 then
    local me = ARGV[at + 2] .. ':' .. ARGV[at + 3]
    for k = m + 2, m + 1 + filed do
      redis.call('SADD', KEYS[k], me)
      redis.call('PEXPIRE', KEYS[k], window)
    end
  end
end
if payload ~= '' and duplicates == 0 and near == 0 then
  store_new(m + t + 1, payload)
  return {0, 0, 0, 0, 1}
end
return {0, 0, duplicates, near, 0}
"""
