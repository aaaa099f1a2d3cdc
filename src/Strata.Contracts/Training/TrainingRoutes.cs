namespace Strata.Contracts.Training;

/// <summary>The Training module's routes: <c>TrainingApi</c> maps these templates under <see cref="Prefix"/> (and the
/// seed's <see cref="SeedTrain"/> at the root); <see cref="HttpTrainingClient"/> and the CLI fill them
/// (<see cref="Http.RoutePath"/>).</summary>
public static class TrainingRoutes
{
    public const string Prefix = "/api/training";
    public const string Train = "/train";
    public const string Jobs = "/jobs";
    public const string Job = "/jobs/{id}";

    /// <summary>The seed's own <c>POST /train</c>, outside the prefix.</summary>
    public const string SeedTrain = "/train";
}
