namespace Strata.Contracts.Serving;

/// <summary>What serving has loaded: the model, the alias it follows, the version behind it and when it was loaded; and
/// every served alias whose version could not be loaded, with the reason.</summary>
public sealed record ServingStatus(string Model, string Alias, bool Ready, int? Version, DateTimeOffset? LoadedAt, string? FeatureView)
{
    public IReadOnlyList<LoadFailure>? LoadFailures { get; init; }
}

/// <summary>A version an alias points at that serving does not load (the alias keeps its previous version, if any):
/// why, how many attempts, and when the next is (attempts back off, up to every five minutes).</summary>
public sealed record LoadFailure(string Model, string Alias, int Version, string Reason, int Attempts, DateTimeOffset NextAttempt);
