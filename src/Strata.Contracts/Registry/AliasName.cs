using System.Text.RegularExpressions;
using Strata.Contracts.Errors;

namespace Strata.Contracts.Registry;

/// <summary>Rules for model and alias names (MLflow's: aliases are <c>[\w-]+</c>, not <c>latest</c> nor <c>v&lt;digits&gt;</c>).</summary>
public static partial class AliasName
{
    /// <summary>Whether <paramref name="alias"/> is well formed (reserved names aside).</summary>
    public static bool IsWellFormed(string? alias) => !string.IsNullOrEmpty(alias) && alias.Length <= 64 && AliasPattern().IsMatch(alias);

    /// <summary>Whether <paramref name="model"/> is a valid model name.</summary>
    public static bool IsModelName(string? model) => !string.IsNullOrEmpty(model) && model.Length <= 128 && ModelPattern().IsMatch(model);

    public static void Validate(string alias, string field = "alias")
    {
        if (!IsWellFormed(alias))
        {
            throw new InputValidationException(field, "must be 1-64 characters of letters, digits, '_' or '-'");
        }
        if (alias.Equals("latest", StringComparison.OrdinalIgnoreCase) || ReservedVersionPattern().IsMatch(alias) || alias.All(char.IsAsciiDigit))
        {
            throw new InputValidationException(field, $"'{alias}' is reserved ('latest', 'v<digits>' and digits name versions)");
        }
    }

    public static void ValidateModelName(string model, string field = "model")
    {
        if (!IsModelName(model))
        {
            throw new InputValidationException(field, "must be 1-128 characters of letters, digits, '_', '-' or '.'");
        }
    }

    [GeneratedRegex(@"^[\w-]+$")]
    private static partial Regex AliasPattern();

    [GeneratedRegex(@"^[vV]\d+$")]
    private static partial Regex ReservedVersionPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")]
    private static partial Regex ModelPattern();
}
