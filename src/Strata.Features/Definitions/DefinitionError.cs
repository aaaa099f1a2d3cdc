namespace Strata.Features.Definitions;

/// <summary>What is wrong with a definition: the file it came from, the definition (<c>feature_view 'card_stats'</c>), the
/// field (<c>aggregations[2].window</c>) and the reason. Any of the first three is null when it does not apply.</summary>
public sealed record DefinitionError(string? File, string? Definition, string? Field, string Reason)
{
    public override string ToString() =>
        string.Join(": ", new[] { File, Definition, Field }.Where(p => !string.IsNullOrEmpty(p)).Append(Reason));
}

/// <summary>Definitions that do not validate; nothing of them was applied.</summary>
public sealed class InvalidDefinitionsException(IReadOnlyList<DefinitionError> errors)
    : Exception(errors.Count == 1 ? errors[0].ToString() : $"{errors.Count} errors in the definitions; the first: {errors[0]}")
{
    public IReadOnlyList<DefinitionError> Errors { get; } = errors;
}
