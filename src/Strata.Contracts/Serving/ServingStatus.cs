namespace Strata.Contracts.Serving;

/// <summary>What serving has loaded: the model, the alias it follows, the version behind it and when it was loaded.</summary>
public sealed record ServingStatus(string Model, string Alias, bool Ready, int? Version, DateTimeOffset? LoadedAt, string? FeatureView);
