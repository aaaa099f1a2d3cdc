using System.Globalization;

namespace Strata.Dashboard.Components;

/// <summary>How the pages write numbers and times: invariant culture, UTC, a dash for nothing.</summary>
internal static class Fmt
{
    public static string Number(double? value, string format = "0.####") =>
        value is { } v && double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "–";

    public static string Time(DateTimeOffset? time) => time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "–";

    public static string Millis(long? unixMillis) => unixMillis is { } ms and > 0 ? Time(DateTimeOffset.FromUnixTimeMilliseconds(ms)) : "–";

    public static string Duration(long start, long? end) =>
        end is { } e && e >= start ? TimeSpan.FromMilliseconds(e - start).ToString(e - start >= 3_600_000 ? @"h\:mm\:ss" : @"m\:ss\.f", CultureInfo.InvariantCulture) : "–";

    public static string Path(string segment) => Uri.EscapeDataString(segment);

    private static readonly System.Text.Json.JsonSerializerOptions Indented = new(Strata.Contracts.StrataJson.Options) { WriteIndented = true };

    public static string Json<T>(T value) => System.Text.Json.JsonSerializer.Serialize(value, Indented);
}
