-- Varied comment bodies, commenter IPs and e-mails, so caches and rate limits see realistic traffic.
-- IPs are random IPv6 addresses: with IPv4 ones, a few thousand draws collide often enough to trip flood control.
local texts = {
  "Merci pour cet article très clair sur la réforme foncière et ses enjeux pour les villages.",
  "Je ne suis pas d'accord avec l'auteur, la hausse du prix du riz touche d'abord les ménages ruraux.",
  "Check out my channel and subscribe for free gift cards every day http://gift.example.com",
  "Les Lions ont bien joué mais l'arbitrage était vraiment scandaleux en deuxième mi-temps.",
  "I think the minister is right about the budget, but the schools need more teachers.",
  "Quelqu'un sait pourquoi l'électricité est coupée depuis trois jours à Pikine ?",
  "Gagnez un iPhone gratuit en cliquant ici http://cadeaux.example.fr abonnez vous vite",
  "Bravo à la rédaction pour ce reportage sur les pêcheurs de Saint-Louis.",
}
local counter = 0

-- Every wrk thread has its own Lua state with the same default seed: without this, threads would send the
-- same "random" IPs at the same time and trip the service's flood control.
init = function(args)
  local address = tostring({}):match("0x(%x+)") or "0"
  math.randomseed(os.time() + tonumber(address, 16) % 1000003)
end

request = function()
  counter = counter + 1
  local n = math.random(1, 1000000000)
  local body = string.format(
    '{"name": "Lecteur %d", "email": "lecteur%d@exemple.sn", "ip": "2001:db8:%x:%x::%x", "text": "%s %d", "lang": "fr"}',
    n, n, math.random(0, 65535), math.random(0, 65535), math.random(1, 65535), texts[(counter % #texts) + 1], n)
  return wrk.format("POST", "/v1/comments", {["Content-Type"] = "application/json"}, body)
end
