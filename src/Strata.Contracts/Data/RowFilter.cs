using System.Globalization;
using System.Text.RegularExpressions;
using Strata.Contracts.Errors;

namespace Strata.Contracts.Data;

/// <summary>A predicate a kept row must satisfy, e.g. <c>age &gt; 0</c>: a column, a comparison and a number.</summary>
public sealed partial record RowFilter(string Column, string Op, double Value)
{
    public static IReadOnlyList<string> Operators { get; } = [">", ">=", "<", "<=", "=", "!="];

    /// <summary>Parses <c>column op number</c> (e.g. <c>age&gt;0</c>); anything else is rejected naming <paramref name="field"/>.</summary>
    public static RowFilter Parse(string text, string field = "filter")
    {
        var match = FilterPattern().Match(text ?? string.Empty);
        if (!match.Success ||
            !double.TryParse(match.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ||
            !double.IsFinite(value))
        {
            throw new InputValidationException(field, $"'{text}' is not a filter of the form <column> <{string.Join('|', Operators)}> <number>");
        }
        return new RowFilter(match.Groups["column"].Value, match.Groups["op"].Value, value);
    }

    public override string ToString() => $"{Column} {Op} {Value.ToString(CultureInfo.InvariantCulture)}";

    [GeneratedRegex(@"^\s*(?<column>[A-Za-z_][A-Za-z0-9_]*)\s*(?<op>>=|<=|!=|>|<|=)\s*(?<value>[-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*$")]
    private static partial Regex FilterPattern();
}
