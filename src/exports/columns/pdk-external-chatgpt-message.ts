/**
 * pdk-external-chatgpt-message, messages of a donated ChatGPT export (issue 20; ecosystem-api.md §3,
 * headers from the original's codebook, ED `generators/pdk_external_chatgpt_message.py`). The texts
 * stay sealed as stored: only the holder of the content key's secret part can open them
 * (docs/donations.md); lengths and word counts are in clear.
 */
import { perPointExporter } from '../exporter.ts';
import { column, CREATED, CREATED_UTC, property, RECORDED, RECORDED_UTC, SOURCE, TIME_ZONE } from './common.ts';

const META = 'conversation_metadata';

export const chatgptMessageExporter = perPointExporter('pdk-external-chatgpt-message', 'ChatGPT Messages', [
  SOURCE, CREATED, CREATED_UTC, RECORDED, RECORDED_UTC, TIME_ZONE,
  property('Message ID', 'string', 'message_id', '`message_id`: the message\'s node id in the conversation'),
  property('Message Author', 'string', 'author', '`author`: the role (user, assistant, system, tool)'),
  column('Conversation ID', 'string', '`conversation_metadata.conversation_id`, else its `id`', ({ point }) => point.get(META, 'conversation_id') ?? point.get(META, 'id'), [META]),
  property('Conversation Creation Timestamp', 'double', [META, 'create_time'], '`conversation_metadata.create_time`: Unix seconds'),
  property('Conversation Update Timestamp', 'double', [META, 'update_time'], '`conversation_metadata.update_time`: Unix seconds'),
  column('URLs Consulted', 'string', '`conversation_metadata.safe_urls` as a JSON array', ({ point }) => {
    const urls = point.get(META, 'safe_urls');
    return Array.isArray(urls) ? JSON.stringify(urls) : undefined;
  }, [META]),
  property('Content Length', 'int', 'pdk_length_content', '`pdk_length_content`: characters (code points) of the text'),
  property('Content Word Count', 'int', 'pdk_word_count_content', '`pdk_word_count_content`: words of the text'),
  property('Conversation Title (Encrypted)', 'string', 'pdk_encrypted_conversation_title', '`pdk_encrypted_conversation_title`: base64 sealed box, as stored'),
  property('Message Content (Encrypted)', 'string', 'pdk_encrypted_content', '`pdk_encrypted_content`: base64 sealed box, as stored'),
]);
