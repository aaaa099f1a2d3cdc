using System.Globalization;
using System.Text.Json;
using Strata.Contracts;
using Strata.Contracts.Features;
using Strata.Contracts.Training;
using Strata.Training.Trainers;

// Training comparison (bench/training.sh drives it): Strata's trainers on the files training_peer.py prepared, the
// same rows scikit-learn trains and is scored on. For each dataset and trainer (fast_forest: Strata's random forest, the
// default; lightgbm), 100 trees, seed 0: the pipeline's fit time (standardisation + trees + calibration, ML.NET's
// default threads) and the holdout AUC. JSON on stdout.
var folder = args.Length == 1 ? args[0] : throw new ArgumentException("usage: training-bench DIR");
var results = new Dictionary<string, object>();
foreach (var name in new[] { "seed", "breast_cancer" })
{
    var train = Read(Path.Combine(folder, $"{name}-train.csv"));
    var holdout = Read(Path.Combine(folder, $"{name}-test.csv"));
    foreach (var trainer in new[] { Trainer.FastForest, Trainer.LightGbm })
    {
        // One unmeasured fit first on the small dataset warms the JIT for both (the big one needs none).
        if (name == "breast_cancer")
        {
            BinaryTrainer.Train(train, holdout, trainer, 100, 0, CancellationToken.None);
        }
        var model = BinaryTrainer.Train(train, holdout, trainer, 100, 0, CancellationToken.None);
        results[$"{name}/strata_{WireNames.Of(trainer)}"] = new
        {
            fit_seconds = model.FitTime.TotalSeconds,
            auc = model.Metrics["auc"],
            train_rows = model.TrainRows,
            holdout_rows = model.HoldoutRows,
        };
        Console.Error.WriteLine($"{name} {trainer}: fit {model.FitTime.TotalSeconds:F2} s, AUC {model.Metrics["auc"]:F4}");
    }
}
Console.WriteLine(JsonSerializer.Serialize(results));
return 0;

static TrainingFrame Read(string path)
{
    var lines = File.ReadAllLines(path);
    var header = lines[0].Split(',');
    var features = header[..^1];
    var columns = features.Select(_ => new double[lines.Length - 1]).ToArray();
    var label = new double[lines.Length - 1];
    for (var r = 1; r < lines.Length; r++)
    {
        var cells = lines[r].Split(',');
        for (var f = 0; f < features.Length; f++)
        {
            columns[f][r - 1] = double.Parse(cells[f], CultureInfo.InvariantCulture);
        }
        label[r - 1] = double.Parse(cells[^1], CultureInfo.InvariantCulture);
    }
    return new TrainingFrame(Path.GetFileNameWithoutExtension(path), "bench", "1", lines.Length - 1, features, columns, label);
}
