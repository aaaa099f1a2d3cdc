namespace Strata.Contracts.Registry;

/// <summary>A registered model: its name, newest version number and aliases (alias to version).</summary>
public sealed record RegisteredModel(
    string Name,
    DateTimeOffset CreatedAt,
    int LatestVersion,
    IReadOnlyDictionary<string, int> Aliases)
{
    /// <summary>Free-form key/value tags of the model (MLflow's registered model tags).</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    public string? Description { get; init; }
}
