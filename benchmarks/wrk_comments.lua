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
-- BENCH_TEXTS=distinct: every text is a new sentence drawn from this vocabulary, as most real comments are
-- new. The default, templated, appends a number to one of the texts above, so that nearly every comment
-- is a near duplicate of an earlier one and takes the duplicate rules' path.
local words = {
  "article", "village", "marché", "prix", "riz", "gouvernement", "ministre", "école", "enseignants", "budget",
  "route", "pluie", "saison", "récolte", "pêcheurs", "port", "quartier", "électricité", "eau", "santé",
  "hôpital", "médecins", "jeunes", "emploi", "université", "étudiants", "football", "équipe", "match", "arbitre",
  "supporters", "musique", "festival", "culture", "histoire", "famille", "enfants", "mairie", "élections", "vote",
  "député", "loi", "réforme", "justice", "police", "sécurité", "transport", "taxi", "bus", "train", "avion",
  "frontière", "commerce", "banque", "crédit", "téléphone", "internet", "journal", "rédaction", "reportage",
  "vraiment", "toujours", "jamais", "encore", "depuis", "pourquoi", "comment", "merci", "bravo", "hélas",
  "pense", "crois", "espère", "attends", "demande", "comprends", "regrette", "félicite", "propose", "refuse",
  "grand", "petit", "nouveau", "ancien", "cher", "difficile", "important", "clair", "injuste", "excellent",
  "minister", "teachers", "schools", "prices", "market", "rain", "harvest", "election", "team", "music",
}
local distinct = os.getenv("BENCH_TEXTS") == "distinct"
-- The website's site key (load.py creates one): only a request carrying it may name the commenter's ip.
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. (os.getenv("BENCH_SITE_KEY") or "")}
local counter = 0

local function sentence(n)
  local picked = {}
  for i = 1, n do picked[i] = words[math.random(1, #words)] end
  return table.concat(picked, " ")
end

-- Every wrk thread has its own Lua state with the same default seed: without this, threads would send the
-- same "random" IPs at the same time and trip the service's flood control.
init = function(args)
  local address = tostring({}):match("0x(%x+)") or "0"
  math.randomseed(os.time() + tonumber(address, 16) % 1000003)
end

request = function()
  counter = counter + 1
  local n = math.random(1, 1000000000)
  local text = distinct and sentence(14) or string.format("%s %d", texts[(counter % #texts) + 1], n)
  -- The e-mail holds this thread's request count as well as a random number: a random number alone
  -- (one in 10^9) came out twice within flood control's 15 s in about one run of ten, and got a 429.
  local body = string.format(
    '{"name": "Lecteur %d", "email": "lecteur%d.%d@exemple.sn", "ip": "2001:db8:%x:%x::%x", "text": "%s", "lang": "fr"}',
    n, counter, n, math.random(0, 65535), math.random(0, 65535), math.random(1, 65535), text)
  return wrk.format("POST", "/v1/comments", headers, body)
end
