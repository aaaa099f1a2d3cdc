using Strata.Contracts;
using System.Globalization;
using System.Text.Json;
using Strata.Contracts.Errors;
using Strata.Contracts.Features;

namespace Strata.Features.Store;

/// <summary>Typed values and timestamps from JSON (or CLR) request data, with errors that name the field and row.</summary>
public static class FeatureValues
{
    public const char KeySeparator = '\u001f';
    private const long MicrosPerSecond = 1_000_000;
    private static readonly long MinMicros = DateTimeOffset.MinValue.ToUnixTimeMilliseconds() * 1000;
    private static readonly long MaxMicros = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds() * 1000;

    /// <summary>Converts one value to <paramref name="type"/>; null stays null. Numbers are not coerced across kinds
    /// except that an integral JSON number is a valid float64.</summary>
    public static object? ToValue(object? raw, LogicalType type, string field, int row)
    {
        if (raw is null || raw is JsonElement { ValueKind: JsonValueKind.Null })
        {
            return null;
        }
        var value = raw is JsonElement e ? FromJson(e, type) : FromClr(raw, type);
        return value ?? throw new InputValidationException(field, $"row {row}: expected {WireNames.Of(type)}, got {Describe(raw)}");
    }

    private static object? FromJson(JsonElement e, LogicalType type) => (type, e.ValueKind) switch
    {
        (LogicalType.Float64, JsonValueKind.Number) when e.TryGetDouble(out var d) && double.IsFinite(d) => d,
        (LogicalType.Int64, JsonValueKind.Number) when e.TryGetInt64(out var l) => l,
        (LogicalType.String, JsonValueKind.String) => e.GetString(),
        (LogicalType.Bool, JsonValueKind.True) => true,
        (LogicalType.Bool, JsonValueKind.False) => false,
        _ => null,
    };

    /// <summary>A value already of its column's CLR type is returned as it is, not boxed again (a million-row push
    /// would otherwise hold each number twice).</summary>
    private static object? FromClr(object raw, LogicalType type) => (type, raw) switch
    {
        (LogicalType.Float64, double d) when double.IsFinite(d) => raw,
        (LogicalType.Float64, float f) when float.IsFinite(f) => (double)f,
        (LogicalType.Float64, int i) => (double)i,
        (LogicalType.Float64, long l) => (double)l,
        (LogicalType.Int64, long) => raw,
        (LogicalType.Int64, int i) => (long)i,
        (LogicalType.String, string) => raw,
        (LogicalType.Bool, bool) => raw,
        _ => null,
    };

    private static string Describe(object raw) => raw is JsonElement e
        ? e.ValueKind switch
        {
            JsonValueKind.String => $"the string \"{Truncate(e.GetString())}\"",
            JsonValueKind.Number => $"the number {e.GetRawText()}",
            JsonValueKind.True or JsonValueKind.False => "a bool",
            JsonValueKind.Array => "an array",
            JsonValueKind.Object => "an object",
            _ => e.ValueKind.ToString().ToLowerInvariant(),
        }
        : raw switch
        {
            string s => $"the string \"{Truncate(s)}\"",
            double or float or long or int => "the number " + Convert.ToString(raw, CultureInfo.InvariantCulture),
            bool => "a bool",
            _ => raw.GetType().Name,
        };

    private static string? Truncate(string? s) => s is { Length: > 40 } ? s[..40] + "..." : s;

    /// <summary>A timestamp as µs since the Unix epoch (UTC): an RFC 3339 string (a time without offset is UTC) or
    /// epoch seconds as a number.</summary>
    public static long ToTimestamp(object? raw, string field, int row)
    {
        switch (raw)
        {
            case JsonElement { ValueKind: JsonValueKind.String } s:
                return ParseTimestamp(s.GetString(), field, row);
            case string s:
                return ParseTimestamp(s, field, row);
            case JsonElement { ValueKind: JsonValueKind.Number } n when n.TryGetDouble(out var seconds):
                return FromSeconds(seconds, field, row);
            case double or long or int:
                return FromSeconds(Convert.ToDouble(raw, CultureInfo.InvariantCulture), field, row);
            case DateTimeOffset dto:
                return Micros(dto);
            case DateTime dt:
                return Micros(new DateTimeOffset(DateTime.SpecifyKind(dt, dt.Kind == DateTimeKind.Unspecified ? DateTimeKind.Utc : dt.Kind)));
            default:
                throw new InputValidationException(field, $"row {row}: expected a timestamp (RFC 3339 string or epoch seconds), got {(raw is null ? "null" : Describe(raw))}");
        }
    }

    public static long ParseTimestamp(string? text, string field, int row = -1)
    {
        if (text is not null && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            return Micros(parsed);
        }
        var where = row >= 0 ? $"row {row}: " : string.Empty;
        throw new InputValidationException(field, $"{where}'{Truncate(text)}' is not a timestamp (RFC 3339, e.g. 2026-01-31T12:00:00Z)");
    }

    private static long FromSeconds(double seconds, string field, int row)
    {
        var micros = seconds * MicrosPerSecond;
        if (!double.IsFinite(micros) || micros < MinMicros || micros > MaxMicros)
        {
            throw new InputValidationException(field, $"row {row}: {seconds.ToString(CultureInfo.InvariantCulture)} is not a valid epoch time in seconds");
        }
        return (long)Math.Round(micros);
    }

    public static long Micros(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;

    public static DateTimeOffset ToDateTimeOffset(long micros) => DateTimeOffset.UnixEpoch.AddTicks(micros * TimeSpan.TicksPerMicrosecond);

    /// <summary>RFC 3339 in UTC with as many fractional digits as needed.</summary>
    public static string FormatTimestamp(long micros) =>
        ToDateTimeOffset(micros).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFF'Z'", CultureInfo.InvariantCulture);

    public static long Micros(TimeSpan span) => span.Ticks / TimeSpan.TicksPerMicrosecond;

    /// <summary>The row count of column-major data (0 when it has no columns); a null column or columns of different
    /// lengths are rejected, named <c>{field}.{column}</c>.</summary>
    public static int RowCount(FeatureColumns columns, string field)
    {
        ArgumentNullException.ThrowIfNull(columns);
        var rows = -1;
        foreach (var (name, column) in columns)
        {
            if (column is null)
            {
                throw new InputValidationException($"{field}.{name}", "must be an array");
            }
            if (rows >= 0 && column.Count != rows)
            {
                throw new InputValidationException($"{field}.{name}", $"has {column.Count} values, other columns have {rows}");
            }
            rows = column.Count;
        }
        return Math.Max(rows, 0);
    }

    /// <summary>The online key of an entity: its join key values, in declaration order.</summary>
    public static string EntityKey(ReadOnlySpan<object?> joinKeyValues)
    {
        if (joinKeyValues.Length == 1)
        {
            return KeyText(joinKeyValues[0]);
        }
        var parts = new string[joinKeyValues.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            parts[i] = KeyText(joinKeyValues[i]);
        }
        return string.Join(KeySeparator, parts);
    }

    private static string KeyText(object? value) => value switch
    {
        string s => s,
        long l => l.ToString(CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        _ => throw new ArgumentException("a join key value cannot be null", nameof(value)),
    };
}
