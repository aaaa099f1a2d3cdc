using System.Text;

namespace Strata.Contracts.Http;

/// <summary>Fills a route template (<c>/models/{model}/versions/{version}</c>) with values, in order, each escaped as one
/// path segment. Endpoints map the templates of a module's routes class and its HTTP client fills the same
/// templates here, so the two cannot drift apart. The result is relative (no leading slash), so a base address with
/// a path keeps it.</summary>
public static class RoutePath
{
    public static string Of(string prefix, string template, params ReadOnlySpan<string> values)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(template);
        var path = new StringBuilder(prefix.Length + template.Length + 32);
        path.Append(prefix.AsSpan().TrimStart('/'));
        var used = 0;
        var rest = template.AsSpan();
        while (!rest.IsEmpty)
        {
            var open = rest.IndexOf('{');
            if (open < 0)
            {
                path.Append(rest);
                break;
            }
            var close = rest[open..].IndexOf('}');
            if (close < 0)
            {
                throw new ArgumentException($"route template '{template}' has an unclosed '{{'", nameof(template));
            }
            if (used == values.Length)
            {
                throw new ArgumentException($"route template '{template}' needs more than {values.Length} values", nameof(values));
            }
            path.Append(rest[..open]).Append(Uri.EscapeDataString(values[used++]));
            rest = rest[(open + close + 1)..];
        }
        if (used != values.Length)
        {
            throw new ArgumentException($"route template '{template}' takes {used} values, got {values.Length}", nameof(values));
        }
        if (prefix.Length == 0 && path.Length > 0 && path[0] == '/')
        {
            path.Remove(0, 1);
        }
        return path.ToString();
    }
}
