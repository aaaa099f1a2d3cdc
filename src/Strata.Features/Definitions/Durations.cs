using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Strata.Features.Definitions;

/// <summary>Durations as definitions write them: <c>30d</c>, <c>1h30m</c>, <c>10m</c>, <c>45s</c>, <c>2w</c> (or a
/// number of seconds).</summary>
public static partial class Durations
{
    [GeneratedRegex(@"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = default;
        var match = text.Length is > 0 and <= 40 ? Pattern().Match(text) : Match.Empty;
        if (!match.Success)
        {
            return false;
        }
        long seconds = 0;
        long[] units = [7 * 86_400, 86_400, 3_600, 60, 1];
        for (var g = 1; g <= 5; g++)
        {
            if (match.Groups[g].Success)
            {
                if (!long.TryParse(match.Groups[g].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > 100L * 365 * 86_400)
                {
                    return false;
                }
                seconds += n * units[g - 1];
            }
        }
        if (seconds <= 0 || seconds > 100L * 365 * 86_400)
        {
            return false;
        }
        duration = TimeSpan.FromSeconds(seconds);
        return true;
    }

    /// <summary>The shortest form that parses back to <paramref name="duration"/> (whole seconds).</summary>
    public static string Format(TimeSpan duration)
    {
        var seconds = (long)duration.TotalSeconds;
        var text = new StringBuilder();
        foreach (var (unit, suffix) in new[] { (86_400L, 'd'), (3_600L, 'h'), (60L, 'm'), (1L, 's') })
        {
            if (seconds >= unit)
            {
                text.Append(CultureInfo.InvariantCulture, $"{seconds / unit}{suffix}");
                seconds %= unit;
            }
        }
        return text.Length == 0 ? "0s" : text.ToString();
    }
}
