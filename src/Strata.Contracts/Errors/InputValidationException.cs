namespace Strata.Contracts.Errors;

/// <summary>Input was rejected; <see cref="Field"/> names the offending field. Becomes a 400 problem.</summary>
public sealed class InputValidationException(string field, string reason)
    : Exception($"{field}: {reason}")
{
    public string Field { get; } = field;
    public string Reason { get; } = reason;
}
