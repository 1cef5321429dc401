using Microsoft.ML.Transformers.Modeling;

namespace Microsoft.ML.Transformers.Pipelines;

/// <summary>The tasks registered before any user code runs, with Hugging Face's names and aliases.</summary>
internal static class BuiltInTasks
{
    public static void Register()
    {
        PipelineRegistry.Register("text-classification", c => new TextClassificationPipeline(c), ModelHead.SequenceClassification);
        PipelineRegistry.Register("token-classification", c => new TokenClassificationPipeline(c), ModelHead.TokenClassification);
        PipelineRegistry.Register("question-answering", c => new QuestionAnsweringPipeline(c), ModelHead.QuestionAnswering);
        PipelineRegistry.Register("fill-mask", c => new FillMaskPipeline(c), ModelHead.MaskedLM);
        PipelineRegistry.Register("feature-extraction", c => new FeatureExtractionPipeline(c), ModelHead.Base);
        PipelineRegistry.Register("zero-shot-classification", c => new ZeroShotClassificationPipeline(c), ModelHead.SequenceClassification);
        PipelineRegistry.Register("image-classification", c => new ImageClassificationPipeline(c), ModelHead.ImageClassification,
            inputType: PipelineInputType.Image);
        PipelineRegistry.Register("image-feature-extraction", c => new ImageFeatureExtractionPipeline(c), ModelHead.Base,
            inputType: PipelineInputType.Image);
        PipelineRegistry.Register("image-segmentation", c => new ImageSegmentationPipeline(c), ModelHead.SemanticSegmentation,
            inputType: PipelineInputType.Image);
        PipelineRegistry.Register("object-detection", c => new ObjectDetectionPipeline(c), ModelHead.ObjectDetection,
            inputType: PipelineInputType.Image);
        PipelineRegistry.RegisterAlias("sentiment-analysis", "text-classification");
        PipelineRegistry.RegisterAlias("ner", "token-classification");
    }
}
