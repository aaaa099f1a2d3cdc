using System.Text.RegularExpressions;
using Strata.Contracts.Errors;

namespace Strata.Data.Ingestion;

/// <summary>Dataset names: 1-128 letters, digits, '_', '-', '.'; they appear in URLs and file listings.</summary>
public static partial class DatasetNames
{
    public static void Validate(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 128 || !Pattern().IsMatch(name))
        {
            throw new InputValidationException("name", "must be 1-128 characters of letters, digits, '_', '-' or '.'");
        }
    }

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")]
    private static partial Regex Pattern();
}
