using System.Globalization;
using Microsoft.Data.Sqlite;
using Strata.Contracts.Errors;
using Strata.Contracts.Security;
using Strata.ServiceDefaults.Security;
using Strata.ServiceDefaults.Sql;

namespace Strata.Security.ApiKeys;

/// <summary>The API keys (SQLite, <c>security/keys.db</c>): id, name, roles, expiry, revocation and the SHA-256 of the
/// key, never the key. Every key is also held in memory, so authenticating a request reads no database; a change
/// replaces that map at once (this process) and bumps the version the other processes poll.</summary>
public sealed class ApiKeyStore : IApiKeyDirectory, IDisposable
{
    public const int MaxNameLength = 100;
    public const double MaxDays = 3650;

    private static readonly IReadOnlyList<Migration> Migrations =
    [
        new(1, "keys", """
            CREATE TABLE api_keys (id TEXT PRIMARY KEY, name TEXT NOT NULL, sha256 BLOB NOT NULL, roles TEXT NOT NULL, created_at TEXT NOT NULL,
                expires_at TEXT NULL, revoked_at TEXT NULL, created_by TEXT NOT NULL);
            CREATE TABLE key_state (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
            INSERT INTO key_state VALUES (1, 0);
            """),
    ];

    private readonly SqliteConnection _db;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private volatile Dictionary<string, ApiKeyRecord> _keys;
    private long _version;

    public ApiKeyStore(string path, TimeProvider time)
    {
        _time = time;
        _db = SqliteDatabase.Open(path, "security", Migrations);
        (_keys, _version) = Load();
    }

    public bool IsLoaded => true;

    public long Version => Interlocked.Read(ref _version);

    public ApiKeyRecord? Find(string id) => _keys.GetValueOrDefault(id);

    public IReadOnlyList<ApiKeyInfo> List() => [.. _keys.Values.Select(k => k.Info).OrderBy(k => k.CreatedAt).ThenBy(k => k.Id, StringComparer.Ordinal)];

    public ApiKeyInfo? Get(string id) => Find(id)?.Info;

    public KeySnapshot Snapshot()
    {
        lock (_gate)
        {
            return new KeySnapshot(_version, [.. _keys.Values.Select(k => new KeySnapshot.Entry(k.Info, Convert.ToHexStringLower(k.Hash)))]);
        }
    }

    /// <summary>Creates a key; its secret is in the answer and nowhere else.</summary>
    public CreatedApiKey Create(NewApiKey request, string createdBy)
    {
        ArgumentNullException.ThrowIfNull(request);
        var now = _time.GetUtcNow();
        var name = request.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new InputValidationException("name", $"must be 1 to {MaxNameLength} characters of letters, digits, '-', '_' or '.'");
        }
        if (request.Roles is null || request.Roles.Count == 0)
        {
            throw new InputValidationException("roles", $"at least one role is required (one of {string.Join(", ", StrataRoles.Grantable.Keys)})");
        }
        foreach (var role in request.Roles)
        {
            if (role is null || !StrataRoles.Grantable.ContainsKey(role))
            {
                throw new InputValidationException("roles", $"'{role}' is not a role (one of {string.Join(", ", StrataRoles.Grantable.Keys)})");
            }
        }
        var expires = Expiry(request, now);
        var (id, key) = ApiKeyFormat.Generate();
        var info = new ApiKeyInfo(id, name, [.. request.Roles.Distinct(StringComparer.Ordinal)], Truncate(now), expires, null, createdBy);
        lock (_gate)
        {
            if (_keys.Values.Any(k => k.Info.RevokedAt is null && k.Info.Name == name))
            {
                throw new ResourceConflictException($"an active key is already named '{name}' (revoke it first, or choose another name)");
            }
            using var tx = _db.BeginTransaction();
            Execute(tx, "INSERT INTO api_keys VALUES ($id, $name, $sha, $roles, $created, $expires, NULL, $by)", c =>
            {
                c.Parameters.AddWithValue("$id", id);
                c.Parameters.AddWithValue("$name", name);
                c.Parameters.AddWithValue("$sha", ApiKeyFormat.Hash(key));
                c.Parameters.AddWithValue("$roles", string.Join(',', info.Roles));
                c.Parameters.AddWithValue("$created", Text(info.CreatedAt));
                c.Parameters.AddWithValue("$expires", expires is null ? DBNull.Value : Text(expires.Value));
                c.Parameters.AddWithValue("$by", createdBy);
            });
            Commit(tx);
            Replace(k => k[id] = new ApiKeyRecord(info, ApiKeyFormat.Hash(key)));
        }
        return new CreatedApiKey(info, key);
    }

    /// <summary>Revokes a key (a revoked key stays listed, as revoked); revoking it again changes nothing.</summary>
    public ApiKeyInfo Revoke(string id)
    {
        lock (_gate)
        {
            var record = Find(id) ?? throw new ResourceNotFoundException("api key", id);
            if (record.Info.RevokedAt is not null)
            {
                return record.Info;
            }
            var revoked = record.Info with { RevokedAt = Truncate(_time.GetUtcNow()) };
            using var tx = _db.BeginTransaction();
            Execute(tx, "UPDATE api_keys SET revoked_at = $at WHERE id = $id", c =>
            {
                c.Parameters.AddWithValue("$at", Text(revoked.RevokedAt!.Value));
                c.Parameters.AddWithValue("$id", id);
            });
            Commit(tx);
            Replace(k => k[id] = new ApiKeyRecord(revoked, record.Hash));
            return revoked;
        }
    }

    /// <summary>On a store without any key: creates the first admin key and writes it to <paramref name="file"/> (readable by
    /// its owner only) for the one who started Strata; returns it, or null when keys exist already.</summary>
    public CreatedApiKey? Bootstrap(string file)
    {
        lock (_gate)
        {
            if (_keys.Count > 0)
            {
                return null;
            }
            var created = Create(new NewApiKey("admin", [StrataRoles.Admin]), "strata up");
            SecretFiles.Write(file, created.Key);
            return created;
        }
    }

    private static DateTimeOffset? Expiry(NewApiKey request, DateTimeOffset now)
    {
        if (request.ExpiresAt is not null && request.ExpiresInDays is not null)
        {
            throw new InputValidationException("expires_at", "give expires_at or expires_in_days, not both");
        }
        if (request.ExpiresInDays is { } days)
        {
            if (!double.IsFinite(days) || days <= 0 || days > MaxDays)
            {
                throw new InputValidationException("expires_in_days", $"must be more than 0 and at most {MaxDays}");
            }
            return Truncate(now.AddDays(days));
        }
        if (request.ExpiresAt is { } at)
        {
            if (at <= now)
            {
                throw new InputValidationException("expires_at", "must be in the future");
            }
            if (at > now.AddDays(MaxDays))
            {
                throw new InputValidationException("expires_at", $"must be within {MaxDays} days");
            }
            return Truncate(at.ToUniversalTime());
        }
        return null;
    }

    private static DateTimeOffset Truncate(DateTimeOffset t) => new(t.UtcTicks - (t.UtcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);

    private static string Text(DateTimeOffset t) => t.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    private void Replace(Action<Dictionary<string, ApiKeyRecord>> change)
    {
        var next = new Dictionary<string, ApiKeyRecord>(_keys, StringComparer.Ordinal);
        change(next);
        _keys = next;
    }

    private void Commit(SqliteTransaction tx)
    {
        Execute(tx, "UPDATE key_state SET version = version + 1", _ => { });
        tx.Commit();
        Interlocked.Increment(ref _version);
    }

    private void Execute(SqliteTransaction tx, string sql, Action<SqliteCommand> bind)
    {
        using var command = _db.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        bind(command);
        command.ExecuteNonQuery();
    }

    private (Dictionary<string, ApiKeyRecord>, long) Load()
    {
        var keys = new Dictionary<string, ApiKeyRecord>(StringComparer.Ordinal);
        using (var command = _db.CreateCommand())
        {
            command.CommandText = "SELECT id, name, sha256, roles, created_at, expires_at, revoked_at, created_by FROM api_keys";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                DateTimeOffset? At(int i) => reader.IsDBNull(i) ? null : DateTimeOffset.Parse(reader.GetString(i), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
                var info = new ApiKeyInfo(reader.GetString(0), reader.GetString(1), reader.GetString(3).Split(',', StringSplitOptions.RemoveEmptyEntries),
                    At(4)!.Value, At(5), At(6), reader.GetString(7));
                keys[info.Id] = new ApiKeyRecord(info, (byte[])reader.GetValue(2));
            }
        }
        using var version = _db.CreateCommand();
        version.CommandText = "SELECT version FROM key_state";
        return (keys, Convert.ToInt64(version.ExecuteScalar(), CultureInfo.InvariantCulture));
    }

    public void Dispose() => _db.Dispose();
}
