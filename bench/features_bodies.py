"""Push and read bodies of the feature-store benchmarks (bench/features.sh, bench/features_ab.sh): for CARDS cards one
profile, one embedding and ten transactions in the last hour each; online_{1,100}.{json,lua}, the get-online-features
bodies for 1 and 100 entities of the fraud_detection service. Usage: features_bodies.py WORK CARDS"""
import datetime, json, random, sys
work, cards = sys.argv[1], int(sys.argv[2])
random.seed(1)
now = datetime.datetime.now(datetime.timezone.utc)
ts = lambda d: (now - d).isoformat()
ids = [f"card{i}" for i in range(cards)]
json.dump({"push_source_name": "card_profiles", "df": {"card_id": ids, "event_timestamp": [ts(datetime.timedelta(days=1))] * cards,
    "credit_limit": [float(random.randint(500, 20000)) for _ in ids], "account_age_days": [random.randint(1, 4000) for _ in ids],
    "country": [random.choice(["DE", "FR", "US"]) for _ in ids], "is_business": [random.random() < 0.1 for _ in ids]}}, open(f"{work}/profiles.json", "w"))
emb = {"card_id": ids, "event_timestamp": [ts(datetime.timedelta(hours=3))] * cards}
for d in range(32):
    emb[f"emb_{d:02d}"] = [random.gauss(0, 1) for _ in ids]
json.dump({"push_source_name": "card_embeddings", "df": emb}, open(f"{work}/embeddings.json", "w"))
tx = [(c, ts(datetime.timedelta(seconds=random.randint(1, 3600))), round(random.uniform(1, 500), 2)) for c in ids for _ in range(10)]
json.dump({"push_source_name": "card_transactions", "df": {"card_id": [t[0] for t in tx], "event_timestamp": [t[1] for t in tx],
    "amount": [t[2] for t in tx], "merchant_category": ["5411"] * len(tx)}}, open(f"{work}/transactions.json", "w"))
for n in (1, 100):
    body = json.dumps({"entities": {"card_id": random.sample(ids, n)}, "feature_service": "fraud_detection"})
    open(f"{work}/online_{n}.lua", "w").write(f"wrk.method = \"POST\"\nwrk.body = '{body}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n")
    open(f"{work}/online_{n}.json", "w").write(body)
