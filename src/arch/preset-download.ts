/**
 * Where a preset's weights come from, said in one phrase for messages such as "--weights is
 * required: download …": timm's on the Hugging Face hub, Keras's from its own storage.
 */
import type { CheckpointPreset } from './presets.js';

export function weightsDownloadHint(preset: CheckpointPreset): string {
  if (preset.weightsUrl !== undefined) return `${preset.weightsUrl.slice(preset.weightsUrl.lastIndexOf('/') + 1)} from ${preset.weightsUrl}`;
  return `model.safetensors of "${preset.hubId}" from the Hugging Face hub (https://huggingface.co/${preset.hubId}/tree/main)`;
}
