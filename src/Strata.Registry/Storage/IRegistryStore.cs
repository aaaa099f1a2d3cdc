using Strata.Contracts.Events;
using Strata.Contracts.Registry;

namespace Strata.Registry.Storage;

/// <summary>Registry metadata storage. SQLite is the embedded default; a PostgreSQL store joins behind this
/// interface and passes the same conformance tests.</summary>
public interface IRegistryStore : IOutboxStore
{
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Creates the model if needed and appends the next version number; the event <paramref name="announce"/>
    /// builds for that number goes into the outbox in the same transaction.</summary>
    Task<ModelVersion> AddVersionAsync(string model, NewModelVersion version, long artifactSize, DateTimeOffset now,
        Func<int, EncodedEvent> announce, CancellationToken cancellationToken);

    Task<ModelVersion?> GetVersionAsync(string model, int version, CancellationToken cancellationToken);

    Task<ModelVersion?> GetVersionByAliasAsync(string model, string alias, CancellationToken cancellationToken);

    /// <summary>Points the alias at the version; false when the version does not exist. When the alias moved, the
    /// event <paramref name="announce"/> builds from the previous version goes into the outbox in the same transaction.</summary>
    Task<bool> SetAliasAsync(string model, string alias, int version, Func<int?, EncodedEvent> announce, CancellationToken cancellationToken);

    /// <summary>Removes the alias; false when it does not exist. The event <paramref name="announce"/> builds from the
    /// version it pointed at goes into the outbox in the same transaction.</summary>
    Task<bool> DeleteAliasAsync(string model, string alias, Func<int, EncodedEvent> announce, CancellationToken cancellationToken);

    /// <summary>Sets a tag of the model, or with <paramref name="version"/> of that version; a null value deletes it.
    /// False when the model or version does not exist, or (deleting) the tag does not.</summary>
    Task<bool> SetTagAsync(string model, int? version, string key, string? value, CancellationToken cancellationToken);

    /// <summary>Deletes one version (<paramref name="version"/>) or the whole model (null): its versions, tags and the aliases
    /// pointing at them, each removed alias announced through the outbox in the same transaction. False when there is
    /// nothing to delete.</summary>
    Task<bool> DeleteAsync(string model, int? version, Func<string, int, EncodedEvent> announceAliasRemoved, CancellationToken cancellationToken);

    /// <summary>Renames a model with its versions, tags and aliases, in one transaction; each alias is announced as removed
    /// under the old name and set under the new. False when there is no such model; a taken name is a conflict.</summary>
    Task<bool> RenameAsync(string model, string newName, Func<string, string, int?, int?, EncodedEvent> announceAlias, CancellationToken cancellationToken);

    /// <summary>Sets a version's description (or, with <paramref name="version"/> null, the model's); false when there is no such one.</summary>
    Task<bool> SetDescriptionAsync(string model, int? version, string? description, CancellationToken cancellationToken);

    Task<IReadOnlyList<RegisteredModel>> ListModelsAsync(CancellationToken cancellationToken);

    Task<IReadOnlyList<ModelVersion>> ListVersionsAsync(string model, CancellationToken cancellationToken);

    Task<bool> ModelExistsAsync(string model, CancellationToken cancellationToken);

    /// <summary>Registers a model without versions; false when it exists.</summary>
    Task<bool> CreateModelAsync(string model, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Appends the next version of the model's traffic policy (null: cleared) after checking, in the same
    /// transaction, that every version and alias it names exists (else an input error naming the target); the event
    /// <paramref name="announce"/> builds for the new number goes into the outbox. Null when there is no such model.</summary>
    Task<TrafficPolicyVersion?> SetTrafficPolicyAsync(string model, TrafficPolicy? policy, DateTimeOffset now, Func<int, EncodedEvent> announce,
        CancellationToken cancellationToken);

    /// <summary>The model's traffic policy versions, newest first (at most <paramref name="limit"/>).</summary>
    Task<IReadOnlyList<TrafficPolicyVersion>> GetTrafficHistoryAsync(string model, int? limit, CancellationToken cancellationToken);

    /// <summary>Stores a new rollout with its first history entry and announcement; a conflict when the model already
    /// has one running or paused.</summary>
    Task<bool> AddRolloutAsync(Rollout rollout, RolloutStepRecord entry, EncodedEvent announce, CancellationToken cancellationToken);

    /// <summary>Stores a rollout's new state if no one changed it since <paramref name="previousUpdate"/>; false otherwise.</summary>
    Task<bool> UpdateRolloutAsync(Rollout rollout, DateTimeOffset previousUpdate, RolloutStepRecord entry, EncodedEvent announce, CancellationToken cancellationToken);

    /// <summary>Rollouts, newest first, with their history: of one model, one id, or the running and paused ones.</summary>
    Task<IReadOnlyList<Rollout>> ListRolloutsAsync(string? model, string? id, bool activeOnly, CancellationToken cancellationToken);

    /// <summary>Stores a started experiment; a conflict when the model has one running.</summary>
    Task AddExperimentAsync(Experiment experiment, CancellationToken cancellationToken);

    /// <summary>Marks a running experiment stopped at <paramref name="at"/>; false when it was not running.</summary>
    Task<bool> StopExperimentAsync(string id, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Experiments newest first: of one model, one id, or all.</summary>
    Task<IReadOnlyList<Experiment>> ListExperimentsAsync(string? model, string? id, CancellationToken cancellationToken);
}
