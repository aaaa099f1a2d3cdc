using System.CommandLine;
using Strata.Contracts;
using Strata.Contracts.Training;

namespace Strata.Cli.Commands;

/// <summary>The options of <c>strata train</c> that make up a <see cref="TrainingRequest"/>, with their validation;
/// what the command leaves unset keeps the request's own default.</summary>
internal sealed class TrainRequestOptions
{
    private readonly Option<string?> _dataset = new("--dataset", "-d") { Description = "Dataset name (its newest version); default: seed" };
    private readonly Option<string?> _datasetId = new("--dataset-id") { Description = "An exact dataset version id" };
    private readonly Option<string?> _view = new("--view") { Description = "Feature view the training frame is built through; default: seed_features" };
    private readonly Option<string?> _label = new("--label") { Description = "Label column; default: target" };
    private readonly Option<string?> _model = new("--model", "-m") { Description = "Model to register the version under; default: seed" };
    private readonly Option<string> _task = new("--task")
    {
        Description = $"One of {string.Join(", ", WireNames.All<TrainingTask>())}", DefaultValueFactory = _ => WireNames.Of(TrainingTask.BinaryClassification),
    };
    private readonly Option<string> _trainer = new("--trainer", "-t")
    {
        Description = $"One of {string.Join(", ", WireNames.All<Trainer>())}", DefaultValueFactory = _ => WireNames.Of(Trainer.FastForest),
    };
    private readonly Option<int> _trees = new("--trees") { Description = "Trees / boosting iterations", DefaultValueFactory = _ => 100 };
    private readonly Option<double> _holdout = new("--holdout") { Description = "Holdout fraction", DefaultValueFactory = _ => 0.2 };
    private readonly Option<int> _seed = new("--seed") { Description = "Split and trainer seed" };
    private readonly Option<int> _folds = new("--folds") { Description = "k-fold cross-validation on the training split (2-10; 0 for none)" };
    private readonly Option<string?> _alias = new("--alias", "-a") { Description = "Alias to move to the new version (default champion; '' registers without one)" };
    private readonly Option<string?> _experiment = new("--experiment", "-e") { Description = "Tracking experiment; default: the model's name" };
    private readonly Option<double> _threshold = new("--threshold")
    {
        Description = "Binary classification: the decision threshold the holdout's confusion matrix, precision, recall and F1 are computed at",
        DefaultValueFactory = _ => TrainingRequest.DefaultThreshold,
    };
    private readonly Option<string[]> _categorical = new("--categorical", "-c")
    {
        Description = "A feature coded as whole-number categories, one-hot encoded in the saved pipeline (repeat, or comma-separate)",
        AllowMultipleArgumentsPerToken = true,
    };

    public TrainRequestOptions()
    {
        _task.AcceptOnlyFromAmong([.. WireNames.All<TrainingTask>()]);
        _trainer.AcceptOnlyFromAmong([.. WireNames.All<Trainer>()]);
        _trees.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 2000)
            {
                r.AddError("--trees must be between 1 and 2000");
            }
        });
        _folds.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 0 or 1 or > 10)
            {
                r.AddError("--folds must be 0 (none) or between 2 and 10");
            }
        });
        _holdout.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double>() is not (> 0 and < 1))
            {
                r.AddError("--holdout must be between 0 and 1 (exclusive)");
            }
        });
    }

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _dataset, _datasetId, _view, _label, _model, _task, _trainer, _trees, _holdout, _seed, _folds, _alias, _experiment, _categorical, _threshold })
        {
            command.Options.Add(option);
        }
    }

    public TrainingRequest Request(ParseResult parse)
    {
        var defaults = new TrainingRequest();
        return new TrainingRequest
        {
            DatasetId = parse.GetValue(_datasetId),
            Dataset = parse.GetValue(_dataset) ?? defaults.Dataset,
            View = parse.GetValue(_view) ?? defaults.View,
            Label = parse.GetValue(_label) ?? defaults.Label,
            Model = parse.GetValue(_model) ?? defaults.Model,
            Task = Parse<TrainingTask>(parse.GetValue(_task)),
            Trainer = Parse<Trainer>(parse.GetValue(_trainer)),
            Trees = parse.GetValue(_trees),
            HoldoutFraction = parse.GetValue(_holdout),
            Seed = parse.GetValue(_seed),
            Folds = parse.GetValue(_folds),
            Alias = parse.GetResult(_alias) is null ? defaults.Alias : parse.GetValue(_alias),
            Experiment = parse.GetValue(_experiment),
            Threshold = parse.GetValue(_threshold),
            Categorical = parse.GetValue(_categorical) is { Length: > 0 } names
                ? [.. names.SelectMany(n => n.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))]
                : null,
        };
    }

    /// <summary>An option's value, already one of the accepted names.</summary>
    private static T Parse<T>(string? name) where T : struct, Enum =>
        WireNames.TryParse<T>(name, out var value) ? value : throw new InvalidOperationException($"'{name}' passed AcceptOnlyFromAmong but names no {typeof(T).Name}");
}
