using System.Text;
using Strata.Samples;
using Strata.Contracts.Data;
using Strata.Contracts.Registry;
using Strata.Contracts.Training;

namespace Strata.Cli.Seed;

/// <summary>Makes a fresh Strata predict at once: writes the sample dataset, ingests it with the seed's cleaning
/// (drop missing values, keep <c>age &gt; 0</c>), trains the forest and makes it <c>champion</c>. Runs through the
/// module clients, so it works the same in process and over HTTP. Does nothing when a champion already exists.</summary>
public sealed class SeedExample(IDataClient data, ITrainingClient training, IRegistryClient registry)
{
    public const string Model = "seed";
    public const string Alias = "champion";

    public static CleaningRules Rules { get; } = new(DropMissing: true, [RowFilter.Parse("age > 0")]);

    /// <summary>Returns the training result when it seeded, null when the registry already had a champion.</summary>
    public async Task<TrainingResult?> EnsureAsync(string dataDirectory, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        if (await registry.GetVersionByAliasAsync(Model, Alias, cancellationToken) is not null)
        {
            return null;
        }
        var folder = Path.Combine(dataDirectory, "seed");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "training_data.csv");
        progress?.Report($"writing the sample dataset to {path}");
        await File.WriteAllTextAsync(path, SampleDataset.Csv(), Encoding.UTF8, cancellationToken);

        progress?.Report("ingesting it (drop missing values, keep age > 0)");
        DatasetVersion dataset;
        await using (var csv = File.OpenRead(path))
        {
            dataset = await data.IngestCsvAsync(SampleDataset.Name, csv, Rules, cancellationToken);
        }
        progress?.Report($"training a 100-tree forest on {dataset.Rows} rows");
        return await training.TrainAsync(new TrainingRequest { DatasetId = dataset.Id, Model = Model, Alias = Alias }, cancellationToken);
    }
}
