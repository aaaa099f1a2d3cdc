using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Strata.ServiceDefaults.Sql;
using Strata.Contracts.Events;

namespace Strata.Events.Audit;

/// <summary>The audit log (event sourcing's record of everything): every event of every platform topic, queryable by
/// topic, type, subject, time range and trace id, and the dead letters with their re-drive status. SQLite (WAL) in the
/// Events module's folder; rows older than the retention are deleted.</summary>
public sealed class AuditStore : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private SqliteCommand? _insert;

    /// <param name="time">Stamps an event that carries no <c>time</c> attribute (one published from outside may not):
    /// it is filed at the time it was recorded, so retention and time-range queries and replays find it.</param>
    public AuditStore(string path, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _connection = SqliteDatabase.Open(path, "audit", Migrations);
    }

    /// <summary>The schema, oldest first (version 1 adopts a database created before migrations were recorded).</summary>
    public static readonly IReadOnlyList<Migration> Migrations =
    [
        new(1, "events and dead letters", """
            CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, topic TEXT NOT NULL, type TEXT NOT NULL,
              source TEXT NOT NULL, subject TEXT, time INTEGER NOT NULL, trace_id TEXT, data TEXT NOT NULL, envelope BLOB NOT NULL);
            CREATE INDEX IF NOT EXISTS events_topic_time ON events (topic, time);
            CREATE INDEX IF NOT EXISTS events_time ON events (time);
            CREATE INDEX IF NOT EXISTS events_trace ON events (trace_id);
            CREATE INDEX IF NOT EXISTS events_subject ON events (subject);
            CREATE TABLE IF NOT EXISTS dead_letters (id TEXT PRIMARY KEY, grp TEXT NOT NULL, topic TEXT NOT NULL, event_id TEXT NOT NULL,
              attempts INTEGER NOT NULL, error TEXT NOT NULL, failed_at INTEGER NOT NULL, status TEXT NOT NULL, redriven_at INTEGER, envelope TEXT NOT NULL);
            """),
        // CloudEvents make source and id unique together: two producers' events with the same id are two events.
        new(2, "events unique by source and id", """
            CREATE TABLE events_v2 (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, topic TEXT NOT NULL, type TEXT NOT NULL,
              source TEXT NOT NULL, subject TEXT, time INTEGER NOT NULL, trace_id TEXT, data TEXT NOT NULL, envelope BLOB NOT NULL, UNIQUE (source, id));
            INSERT INTO events_v2 (seq, id, topic, type, source, subject, time, trace_id, data, envelope)
              SELECT seq, id, topic, type, source, subject, time, trace_id, data, envelope FROM events ORDER BY seq;
            DROP TABLE events;
            ALTER TABLE events_v2 RENAME TO events;
            CREATE INDEX events_topic_time ON events (topic, time);
            CREATE INDEX events_time ON events (time);
            CREATE INDEX events_trace ON events (trace_id);
            CREATE INDEX events_subject ON events (subject);
            """),
    ];

    public static long Micros(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    private static DateTimeOffset FromMicros(long micros) => DateTimeOffset.UnixEpoch.AddTicks(micros * 10);

    /// <summary>Records events (each once: a redelivered one is ignored) in one transaction, a dead letter also filed as
    /// one: the audit consumer writes what one fetch delivered as one commit, not one per event. The insert is prepared once and reused (every event of every topic comes through here).</summary>
    public void AppendAll(IReadOnlyList<ReceivedEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return;
        }
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            var command = _insert ??= PrepareInsert();
            command.Transaction = transaction;
            foreach (var e in events)
            {
                Insert(command, e, transaction);
            }
            transaction.Commit();
        }
    }

    private void Insert(SqliteCommand command, ReceivedEvent e, SqliteTransaction transaction)
    {
        var p = command.Parameters;
        p[0].Value = e.Id;
        p[1].Value = e.Topic;
        p[2].Value = e.Type;
        p[3].Value = e.Source;
        p[4].Value = (object?)e.Subject ?? DBNull.Value;
        p[5].Value = Micros(e.Time ?? _time.GetUtcNow());
        p[6].Value = e.TraceParent is { Length: 55 } tp ? tp.Substring(3, 32) : DBNull.Value;
        p[7].Value = e.Data.ValueKind == JsonValueKind.Undefined ? "null" : e.Data.GetRawText();
        p[8].Value = e.Envelope.ToArray();
        command.ExecuteNonQuery();
        if (e.Topic == EventTopics.DeadLetter && e.DataAs<DeadLetterEvent>() is { } letter)
        {
            using var dead = _connection.CreateCommand();
            dead.Transaction = transaction;
            dead.CommandText = "INSERT OR IGNORE INTO dead_letters (id, grp, topic, event_id, attempts, error, failed_at, status, envelope) VALUES ($id, $grp, $topic, $event, $attempts, $error, $failed, 'dead', $envelope)";
            dead.Parameters.AddWithValue("$id", e.Id);
            dead.Parameters.AddWithValue("$grp", letter.Group);
            dead.Parameters.AddWithValue("$topic", letter.Topic);
            dead.Parameters.AddWithValue("$event", letter.EventId);
            dead.Parameters.AddWithValue("$attempts", letter.Attempts);
            dead.Parameters.AddWithValue("$error", letter.Error);
            dead.Parameters.AddWithValue("$failed", Micros(letter.FailedAt));
            dead.Parameters.AddWithValue("$envelope", letter.Event.GetRawText());
            dead.ExecuteNonQuery();
        }
    }

    public EventPage Query(AuditQuery query)
    {
        lock (_gate)
        {
            return QueryLocked(query);
        }
    }

    private EventPage QueryLocked(AuditQuery query)
    {
        var where = new List<string>();
        using var command = _connection.CreateCommand();
        void Filter(string clause, string name, object? value)
        {
            if (value is not null)
            {
                where.Add(clause);
                command.Parameters.AddWithValue(name, value);
            }
        }
        Filter("topic = $topic", "$topic", query.Topic);
        Filter("type = $type", "$type", query.Type);
        Filter("subject = $subject", "$subject", query.Subject);
        Filter("time >= $from", "$from", query.From is { } from ? Micros(from) : null);
        Filter("time < $to", "$to", query.To is { } to ? Micros(to) : null);
        Filter("trace_id = $trace", "$trace", query.TraceId);
        Filter("seq > $after", "$after", query.After is null ? null : long.Parse(query.After, CultureInfo.InvariantCulture));
        command.CommandText = "SELECT seq, topic, envelope FROM events"
            + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : string.Empty) + (query.NewestFirst ? " ORDER BY seq DESC" : " ORDER BY seq") + " LIMIT $limit";
        command.Parameters.AddWithValue("$limit", query.Limit + 1);
        var events = new List<EventRecord>();
        long last = 0;
        {
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                if (events.Count == query.Limit)
                {
                    return new EventPage(events, query.NewestFirst ? null : last.ToString(CultureInfo.InvariantCulture));
                }
                last = reader.GetInt64(0);
                events.Add(Record(last, reader.GetString(1), (byte[])reader[2]));
            }
        }
        return new EventPage(events, null);
    }

    /// <summary>The record of a stored envelope: its attributes as they were published, Strata's <c>seq</c> and
    /// <c>topic</c>.</summary>
    internal static EventRecord Record(long seq, string topic, byte[] envelope)
    {
        using var document = JsonDocument.Parse(envelope);
        string? id = null, source = null, type = null, subject = null, contentType = null, schema = null, traceParent = null;
        DateTimeOffset? time = null;
        JsonElement? data = null;
        Dictionary<string, JsonElement>? extensions = null;
        foreach (var attribute in document.RootElement.EnumerateObject())
        {
            var value = attribute.Value;
            string? Text() => value.ValueKind == JsonValueKind.String ? value.GetString() : null;
            switch (attribute.Name)
            {
                case "specversion": break;
                case "id": id = Text(); break;
                case "source": source = Text(); break;
                case "type": type = Text(); break;
                case "subject": subject = Text(); break;
                case "datacontenttype": contentType = Text(); break;
                case "dataschema": schema = Text(); break;
                case "traceparent": traceParent = Text(); break;
                case "time": time = value.ValueKind == JsonValueKind.String && value.TryGetDateTimeOffset(out var t) ? t : null; break;
                case "data": data = value.Clone(); break;
                case "seq" or "topic": break; // Strata's own, set below (an envelope carrying them was refused when published)
                default:
                    (extensions ??= new(StringComparer.Ordinal))[attribute.Name] = value.Clone();
                    break;
            }
        }
        return new EventRecord
        {
            Id = id ?? string.Empty,
            Source = source ?? string.Empty,
            Type = type ?? string.Empty,
            Subject = subject,
            Time = time,
            DataContentType = contentType,
            DataSchema = schema,
            TraceParent = traceParent,
            Seq = seq,
            Topic = topic,
            Data = data,
            Extensions = extensions,
        };
    }

    /// <summary>Stored envelopes of a topic in [from, to), in the order they were recorded.</summary>
    public List<(string Id, string? Subject, byte[] Envelope)> Envelopes(string topic, DateTimeOffset from, DateTimeOffset to)
    {
        lock (_gate)
        {
            return EnvelopesLocked(topic, from, to);
        }
    }

    private List<(string Id, string? Subject, byte[] Envelope)> EnvelopesLocked(string topic, DateTimeOffset from, DateTimeOffset to)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT id, subject, envelope FROM events WHERE topic = $topic AND time >= $from AND time < $to ORDER BY time, seq";
        command.Parameters.AddWithValue("$topic", topic);
        command.Parameters.AddWithValue("$from", Micros(from));
        command.Parameters.AddWithValue("$to", Micros(to));
        var result = new List<(string, string?, byte[])>();
        {
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                result.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), (byte[])reader[2]));
            }
        }
        return result;
    }

    public List<DeadLetterRecord> DeadLetters(string? group, string? topic, string? status, int limit)
    {
        lock (_gate)
        {
            return DeadLettersLocked(group, topic, status, limit);
        }
    }

    private List<DeadLetterRecord> DeadLettersLocked(string? group, string? topic, string? status, int limit)
    {
        using var command = _connection.CreateCommand();
        var where = new List<string>();
        if (group is not null) { where.Add("grp = $grp"); command.Parameters.AddWithValue("$grp", group); }
        if (topic is not null) { where.Add("topic = $topic"); command.Parameters.AddWithValue("$topic", topic); }
        if (status is not null) { where.Add("status = $status"); command.Parameters.AddWithValue("$status", status); }
        command.CommandText = "SELECT id, grp, topic, event_id, attempts, error, failed_at, status, redriven_at, envelope FROM dead_letters"
            + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : string.Empty) + " ORDER BY failed_at LIMIT $limit";
        command.Parameters.AddWithValue("$limit", limit);
        var result = new List<DeadLetterRecord>();
        {
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                using var envelope = JsonDocument.Parse(reader.GetString(9));
                result.Add(new DeadLetterRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt32(4),
                    reader.GetString(5), FromMicros(reader.GetInt64(6)), reader.GetString(7), reader.IsDBNull(8) ? null : FromMicros(reader.GetInt64(8)),
                    envelope.RootElement.Clone()));
            }
        }
        return result;
    }

    public DeadLetterRecord? DeadLetter(string id)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT id, grp, topic, event_id, attempts, error, failed_at, status, redriven_at, envelope FROM dead_letters WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            using var reader = command.ExecuteReader();
            if (!reader.Read())
            {
                return null;
            }
            using var envelope = JsonDocument.Parse(reader.GetString(9));
            return new DeadLetterRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt32(4),
                reader.GetString(5), FromMicros(reader.GetInt64(6)), reader.GetString(7), reader.IsDBNull(8) ? null : FromMicros(reader.GetInt64(8)),
                envelope.RootElement.Clone());
        }
    }

    public void MarkRedriven(string id, DateTimeOffset at)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "UPDATE dead_letters SET status = 'redriven', redriven_at = $at WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            command.Parameters.AddWithValue("$at", Micros(at));
            command.ExecuteNonQuery();
        }
    }

    /// <summary>Deletes events (and settled dead letters) older than <paramref name="cutoff"/>.</summary>
    public int Prune(DateTimeOffset cutoff)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "DELETE FROM events WHERE time < $cutoff; DELETE FROM dead_letters WHERE status = 'redriven' AND failed_at < $cutoff";
            command.Parameters.AddWithValue("$cutoff", Micros(cutoff));
            return command.ExecuteNonQuery();
        }
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private SqliteCommand PrepareInsert()
    {
        var command = _connection.CreateCommand();
        command.CommandText = "INSERT OR IGNORE INTO events (id, topic, type, source, subject, time, trace_id, data, envelope) VALUES ($id, $topic, $type, $source, $subject, $time, $trace, $data, $envelope)";
        foreach (var name in new[] { "$id", "$topic", "$type", "$source", "$subject", "$time", "$trace", "$data", "$envelope" })
        {
            command.Parameters.Add(new SqliteParameter(name, null));
        }
        return command;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _insert?.Dispose();
            _connection.Dispose();
        }
    }
}
