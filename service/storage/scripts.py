"""Every Lua script the service runs: each multi-key change to the review queue is one atomic script.

Times are passed in by the caller (ms since the epoch and ISO 8601), so that
every instance and the tests agree on what "expired" means. A lease is live
while its expiry in the leases set is greater than now; an expired lease
needs no clean-up job: claim and decide treat it as absent.
"""

# What ADMIT makes of a text (rules.text_hit says what each means): never seen, close to an earlier text,
# seen before, or seen `repeated_from` times before. The names are the codes of the reasons they add.
NEW_TEXT = "new_text"
TEXT_CLASSES = (NEW_TEXT, "near_duplicate_text", "duplicate_text", "repeated_text")
# What ADMIT returns first when the caller's site key no longer holds the digest it was verified with.
TOKEN_REFUSED = -1


class ScriptKeys:
    """The KEYS of one script call, for payloads that name a key by its position."""

    def __init__(self):
        self.keys: list[str] = []
        self._positions: dict[str, int] = {}

    def add(self, key: str) -> int:
        """File a key; return its 1-based position in KEYS (a key filed twice keeps its first position)."""
        if key not in self._positions:
            self.keys.append(key)
            self._positions[key] = len(self.keys)
        return self._positions[key]

    def add_run(self, run: list[str]) -> list[int]:
        """File distinct keys side by side; return [first, last] position, for `unpack(KEYS, first, last)`."""
        first = len(self.keys) + 1
        for key in run:
            self.keys.append(key)
            self._positions.setdefault(key, len(self.keys))
        return [first, len(self.keys)]


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
# KEYS[8] label stream, KEYS[9] webhook outbox stream
# ARGV[1] id, ARGV[2] actor, ARGV[3] new status (approved|rejected), ARGV[4] note,
# ARGV[5] now ms, ARGV[6] now ISO, ARGV[7] mode: 'review' (pending only) or 'override' (decided only),
# ARGV[8] ms to keep a comment with the new status (0: forever), ARGV[9] outbox max length
# Besides the status change, it appends the human label to the label stream (a revision is one more entry),
# queues a comment.decided event for the webhooks and sets or clears the comment's expiry, all at once.
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

-- The label: what training needs and what explains it, never e-mail, IP or user agent. This is the one
-- definition of a label's fields; the archive and every export keep them as written here.
local fields = redis.call('HMGET', KEYS[1], 'submission', 'score', 'model_version', 'language', 'auto_status')
local submission = cjson.decode(fields[1])
-- HMGET gives false for a missing field; `or nil` leaves such keys out of the JSON.
local label = {comment_id = ARGV[1], text = submission.text, label = (new == 'rejected') and 1 or 0,
               lang = fields[4] or nil, decided_by = ARGV[2], decided_at = ARGV[6], model_version = fields[3] or nil,
               score = tonumber(fields[2]), previous_status = status, auto_status = fields[5] or status}
redis.call('XADD', KEYS[8], '*', 'label', cjson.encode(label))

redis.call('XADD', KEYS[9], 'MAXLEN', '~', ARGV[9], '*', 'type', 'comment.decided', 'data',
           cjson.encode({id = ARGV[1], status = new, previous_status = status, decided_by = ARGV[2],
                         decided_at = ARGV[6], override = (mode == 'override')}))

local keep = tonumber(ARGV[8])
if keep > 0 then
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

# KEYS[1] a lease (string: its holder's token, with the lease's expiry as TTL); ARGV[1] token, ARGV[2] lease ms.
# Extends the lease if the caller still holds it; returns 1 if so, else 0.
RENEW_LEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""

# KEYS[1] a lease as in RENEW_LEASE; ARGV[1] token. Gives it up if the caller holds it.
RELEASE_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
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

# Stores a new comment, given as the `comment` member of a JSON payload (see storage.comments.comment_spec):
# the record hash, its first history event, its status index entry, its queue entry when pending, the
# shadow model's verdict, and the record's expiry when its status has one. The payload names its keys by
# their position in KEYS; `outcomes` holds the record's status and reasons for each class of text
# (TEXT_CLASSES), and `text_class` says which one applies. Absent members are absent, never JSON null.
STORE_FUNCTION = """
local function store_new(c, text_class)
  local o, k = c.outcomes[text_class], c.keys
  local record, history = KEYS[k.record], KEYS[k.history]
  local fields = {'status', o.status, 'auto_status', o.status, 'reasons', o.reasons}
  for name, value in pairs(c.fields) do
    fields[#fields + 1] = name
    fields[#fields + 1] = value
  end
  if o.shadow then
    fields[#fields + 1] = 'shadow'
    fields[#fields + 1] = o.shadow
    redis.call('HSET', KEYS[k.shadow], c.id, o.shadow_result)
  end
  redis.call('HSET', record, unpack(fields))
  redis.call('RPUSH', history, o.event)
  redis.call('ZADD', KEYS[k.index[o.status]], 0, c.id)
  if o.status == 'pending' then redis.call('ZADD', KEYS[k.queue], c.priority, c.id) end
  local keep = c.expire_ms[o.status]
  if keep then
    redis.call('PEXPIRE', record, keep)
    redis.call('PEXPIRE', history, keep)
  end
end
"""

# ARGV[1] {"comment": as in STORE_FUNCTION, "text_class": one of TEXT_CLASSES}. All of it or nothing.
STORE = STORE_FUNCTION + """
local p = cjson.decode(ARGV[1])
store_new(p.comment, p.text_class)
return 1
"""

# Admission and, in the same round trip, the store of the comment. ARGV[1] is a JSON payload (built by
# storage.abuse.Admitter.admit) whose members name their keys by position in KEYS:
#   token   {key, sha256}: the caller's site key, verified earlier by this process (tokens.StillValid); when
#           its hash no longer holds that digest (revoked, replaced) it returns {-1, 0, '', 0} at once,
#           having recorded nothing;
#   limits  [{key, max, window_s}]  rate-limit counters;
#   floods  [{key, window_ms}]      flood markers;
#   text    {count_key, own = [first, last], window_ms, high, low, member, max_distance, repeated_from}
#           when the text is long enough to compare: its duplicate counter, the run of KEYS holding the
#           fingerprint buckets it is filed under, the fingerprint's two 32-bit halves and the two as the
#           bucket member 'high:low'; ARGV[2] then names the 64 buckets one bit away (abuse.bucket_keys),
#           which the script only reads, separated by spaces: one argument rather than 64 more KEYS or
#           arguments, each of which costs the caller a microsecond to pack, and named by the caller, since
#           formatting them in Lua cost more than the whole rest of the search;
#   comment the comment to store, as in STORE_FUNCTION (absent: store nothing);
#   author  {key, now_ms, window_ms}: the commenter's recent comments, which a stored comment joins (the
#           older ones leave), so moderators see how many others the author sent lately.
# First every limit is checked, in order (limits, then floods); if one is exceeded nothing is recorded and
# it returns {its 1-based position, ms until it resets, '', 0}. Otherwise it counts the submission in each
# limit and sorts the text into a class: repeated_text when it was seen `repeated_from` times before,
# duplicate_text when seen before, near_duplicate_text when an earlier text's fingerprint is at most
# `max_distance` bits away (compared here, so the candidates never leave Redis; first in this text's own
# buckets, where a near duplicate is most likely, then in the neighbouring ones, stopping at the first),
# else new_text. A text with no near duplicate is filed in its own buckets; one with a near duplicate is
# not, as that earlier text already stands for it: a flood of variations of one text cannot grow the
# buckets every later lookup reads. Then it stores the comment with that class's outcome and returns
# {0, 0, class, 1 if stored else 0}.
ADMIT = STORE_FUNCTION + """
local p = cjson.decode(ARGV[1])
if p.token and redis.call('HGET', KEYS[p.token.key], 'sha256') ~= p.token.sha256 then return {-1, 0, '', 0} end
local limits, floods = p.limits or {}, p.floods or {}
for i, limit in ipairs(limits) do
  if tonumber(redis.call('GET', KEYS[limit.key]) or '0') >= limit.max then
    return {i, redis.call('PTTL', KEYS[limit.key]), '', 0}
  end
end
for i, flood in ipairs(floods) do
  local ttl = redis.call('PTTL', KEYS[flood.key])
  if ttl > 0 then return {#limits + i, ttl, '', 0} end
end
for _, limit in ipairs(limits) do
  if redis.call('INCR', KEYS[limit.key]) == 1 then redis.call('EXPIRE', KEYS[limit.key], limit.window_s) end
end
for _, flood in ipairs(floods) do redis.call('SET', KEYS[flood.key], '1', 'PX', flood.window_ms) end

local text_class = 'new_text'
local t = p.text
if t then
  local seen = redis.call('INCR', KEYS[t.count_key]) - 1
  redis.call('PEXPIRE', KEYS[t.count_key], t.window_ms)
  -- What is left of a budget of differing bits once x's are spent, or -1 once it runs out: counting stops
  -- there, as most candidates differ in some 24 bits.
  local function spend(x, left)
    while x ~= 0 do
      if left == 0 then return -1 end
      x = bit.band(x, x - 1); left = left - 1
    end
    return left
  end
  local function near(names)
    for _, member in ipairs(redis.call('SUNION', unpack(names))) do
      local h, l = member:match('^(%d+):(%d+)$')
      -- Members in any other format (an older version's) are ignored, never an error. Near includes 0 bits
      -- apart: another text with the very same fingerprint.
      if h then
        local left = spend(bit.bxor(tonumber(h), t.high), t.max_distance)
        if left >= 0 and spend(bit.bxor(tonumber(l), t.low), left) >= 0 then return true end
      end
    end
    return false
  end
  local function neighbours()
    local names = {}
    for name in ARGV[2]:gmatch('%S+') do names[#names + 1] = name end
    return names
  end
  local is_near = near({unpack(KEYS, t.own[1], t.own[2])}) or near(neighbours())
  if not is_near then
    for k = t.own[1], t.own[2] do
      redis.call('SADD', KEYS[k], t.member)
      redis.call('PEXPIRE', KEYS[k], t.window_ms)
    end
  end
  if seen >= t.repeated_from then text_class = 'repeated_text'
  elseif seen > 0 then text_class = 'duplicate_text'
  elseif is_near then text_class = 'near_duplicate_text' end
end
if p.comment then
  store_new(p.comment, text_class)
  local a = p.author
  if a then
    redis.call('ZADD', KEYS[a.key], a.now_ms, p.comment.id)
    redis.call('ZREMRANGEBYSCORE', KEYS[a.key], '-inf', a.now_ms - a.window_ms)
    redis.call('PEXPIRE', KEYS[a.key], a.window_ms)
  end
  return {0, 0, text_class, 1}
end
return {0, 0, text_class, 0}
"""
